"""Reading an HTTP body with a size cap and a total deadline.

``requests`` bounds each socket read (its ``timeout``) but neither the size of a body nor
the time it takes: a server that sends a 400 MiB document is read whole into memory, and
one that drips a byte every few seconds never times out. Here the body is read with
``read1`` (returns as soon as any bytes arrive), the sum is checked against the cap after
every chunk (decoded, so a compressed bomb counts at its real size) and the clock against
the deadline, so neither a large nor a slow answer holds a run.
"""

from __future__ import annotations

import time
from typing import Any

import requests

CHUNK = 64 * 1024
MiB = 1024 * 1024


class BodyTooLarge(Exception):
    """The body is longer than the cap (``limit``)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"longer than {limit} bytes")


class BodyTooSlow(Exception):
    """The body did not arrive before the deadline."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"not complete after {seconds:g} s")


def read_body(
    response: requests.Response,
    *,
    limit: int,
    deadline: float,
    truncate: bool = False,
) -> bytes:
    """At most ``limit`` bytes of a streamed body, read before ``time.monotonic()`` passes
    ``deadline``; with ``truncate`` a longer body is cut rather than refused (error
    bodies, which are only shown). A response built in memory is returned as it is."""
    raw: Any = response.raw
    if raw is None or not hasattr(raw, "read1"):
        content = response.content or b""
        if len(content) > limit and not truncate:
            raise BodyTooLarge(limit)
        return content[:limit]
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit and not truncate:
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    total = 0
    started = time.monotonic()
    while True:
        if time.monotonic() > deadline:
            raise BodyTooSlow(round(time.monotonic() - started, 1))
        chunk = raw.read1(CHUNK, decode_content=True)
        if not chunk:
            break
        total += len(chunk)
        if total > limit:
            if truncate:
                chunks.append(chunk[: len(chunk) - (total - limit)])
                break
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)
