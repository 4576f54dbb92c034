"""One closed-loop load generator for the sandbox benchmarks: N keep-alive connections,
each sending its next request as soon as the last answer is read, for a fixed time.

Closed-loop on purpose: the figure is what the server sustains on this machine, with the
client's own cost in the same loop (both share the 2 cores, as they do in a user's run).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Load:
    done: int  # answers with status 200
    errors: int  # any other answer
    elapsed: float  # seconds

    @property
    def rate(self) -> float:
        return self.done / self.elapsed


async def _drive(
    url: str,
    token: str,
    context: ssl.SSLContext,
    connections: int,
    seconds: float,
    body: bytes | None,
) -> Load:
    import aiohttp

    done = errors = 0
    connector = aiohttp.TCPConnector(limit=connections, ssl=context)
    headers = {"Authorization": f"Bearer {token}"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    method = "GET" if body is None else "POST"
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        started = time.perf_counter()
        deadline = started + seconds

        async def worker() -> None:
            nonlocal done, errors
            while time.perf_counter() < deadline:
                async with session.request(method, url, data=body) as response:
                    await response.read()
                    if response.status == 200:
                        done += 1
                    else:
                        errors += 1

        await asyncio.gather(*(worker() for _ in range(connections)))
        return Load(done, errors, time.perf_counter() - started)


def drive(
    url: str,
    token: str,
    context: ssl.SSLContext,
    *,
    connections: int,
    seconds: float,
    body: bytes | None = None,
) -> Load:
    """GET ``url`` (POST ``body`` as JSON when given) with a bearer token, closed-loop."""
    return asyncio.run(_drive(url, token, context, connections, seconds, body))
