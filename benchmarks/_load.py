"""One closed-loop load generator for the sandbox benchmarks: N keep-alive connections,
each sending its next request as soon as the last answer is read, for a fixed time.

Closed-loop on purpose: the figure is what the server sustains on this machine, with the
client's own cost in the same loop (both share the 2 cores, as they do in a user's run).
So the client is kept as light as wrk's: one thread per connection on a blocking TLS
socket, the request's bytes made once, the answer read by ``Content-Length`` through a C
buffered reader. OpenSSL and the socket calls release the GIL, so the Python left per
request is a status line and a few header lines. An aiohttp client loop cost 0.3-0.5 ms
of CPU per request here, as much as the lightest answer of the server it measured.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import urlsplit

MAX_HEADER_LINES = 100


@dataclass(frozen=True)
class Load:
    done: int  # answers with status 200
    errors: int  # any other answer
    elapsed: float  # seconds

    @property
    def rate(self) -> float:
        return self.done / self.elapsed


class LoadError(RuntimeError):
    """The server answered in a way this generator does not read (it stops the run)."""


def _request(url: str, token: str, body: bytes | None) -> tuple[str, int, bytes]:
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 443
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [
        f"{'GET' if body is None else 'POST'} {target} HTTP/1.1",
        f"Host: {parts.netloc}",
        f"Authorization: Bearer {token}",
        "Accept: application/json",
    ]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return host, port, ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


def _answer_status(reader: BinaryIO) -> int:
    """Reads one answer off the connection; its status."""
    readline = reader.readline
    status_line = readline(65536)
    if not status_line:
        raise LoadError("the server closed a keep-alive connection")
    status = int(status_line.split(b" ", 2)[1])
    length: int | None = None
    for _ in range(MAX_HEADER_LINES):
        line = readline(65536)
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        lowered = name.strip().lower()
        if lowered == b"content-length":
            length = int(value)
        elif lowered == b"transfer-encoding":
            raise LoadError(f"a {status} answer is {value.strip().decode()}, not sized")
    if length is None:
        raise LoadError(f"a {status} answer has no Content-Length")
    reader.read(length)
    return status


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
    host, port, request = _request(url, token, body)
    counts = [[0, 0] for _ in range(connections)]
    failures: list[BaseException] = []
    clock = [0.0, 0.0]  # started, deadline: set once every connection is open

    def go() -> None:
        clock[0] = time.perf_counter()
        clock[1] = clock[0] + seconds

    start = threading.Barrier(connections + 1, action=go)

    def connection(count: list[int]) -> None:
        try:
            raw = socket.create_connection((host, port), timeout=30)
            with context.wrap_socket(raw, server_hostname=host) as tls:
                tls.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                reader = tls.makefile("rb")
                start.wait()
                while time.perf_counter() < clock[1]:
                    tls.sendall(request)
                    count[0 if _answer_status(reader) == 200 else 1] += 1
        except BaseException as error:  # reported by the caller, after every thread ended
            failures.append(error)
            start.abort()

    threads = [threading.Thread(target=connection, args=(c,), daemon=True) for c in counts]
    for thread in threads:
        thread.start()
    with contextlib.suppress(threading.BrokenBarrierError):  # a failure is raised below
        start.wait(timeout=60)
    for thread in threads:
        thread.join()
    if failures:
        raise LoadError(f"a load connection failed: {failures[0]!r}") from failures[0]
    elapsed = time.perf_counter() - clock[0]
    return Load(sum(c[0] for c in counts), sum(c[1] for c in counts), elapsed)
