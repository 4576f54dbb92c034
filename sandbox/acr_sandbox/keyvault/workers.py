"""The vaults' private-key work (RSA signing, key generation) on a small pool of threads.

Why: the data plane serves every vault from one event loop, so a private-key operation
run inline holds that loop and one core for its whole duration — an RSA-2048 signature
costs about 1 ms, more than the rest of the request, which capped RSA signing at what one
core signs while the machine's second core idled. ``cryptography`` releases the GIL
inside OpenSSL for these operations (measured: two threads sign 1.9 × what one does), so
threads spread them over the cores with no copying of key material: the keys never leave
the sandbox's process, and the loop keeps parsing, authorizing and answering meanwhile.

Only work worth a thread hop goes there: an EC signature (~35 µs) and every public-key
verification (~20–100 µs) cost about what the hand-off costs and stay inline. The pool is
bounded by the core count, made on first use (a sandbox that never signs with RSA starts
no thread) and shut down with the data plane.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from cryptography.hazmat.primitives.asymmetric import rsa

from acr_sandbox.keyvault import crypto

MAX_WORKERS = 4
T = TypeVar("T")


def pool_size() -> int:
    """One thread per core (the loop's own thread shares them), at most MAX_WORKERS."""
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


class KeyWorkers:
    def __init__(self, workers: int | None = None) -> None:
        self._workers = workers or pool_size()
        self._pool: ThreadPoolExecutor | None = None

    @property
    def started(self) -> bool:
        return self._pool is not None

    async def _run(self, work: Callable[[], T]) -> T:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=self._workers, thread_name_prefix="keyvault-crypto"
            )
        return await asyncio.get_running_loop().run_in_executor(self._pool, work)

    async def sign(self, key: crypto.PrivateKey, alg: str, digest: bytes) -> bytes:
        """``crypto.sign``, on a worker for RSA keys; the same errors either way."""
        if isinstance(key, rsa.RSAPrivateKey):
            return await self._run(lambda: crypto.sign(key, alg, digest))
        return crypto.sign(key, alg, digest)

    async def generate(self, kty: str, size: int | None, curve: str | None) -> crypto.PrivateKey:
        """``crypto.generate``, on a worker for RSA (tens to hundreds of ms per key)."""
        if kty.startswith("RSA"):
            return await self._run(lambda: crypto.generate(kty, size, curve))
        return crypto.generate(kty, size, curve)

    def shutdown(self) -> None:
        """Stop the threads once the listener is closed (no request is left to answer);
        a later start makes a new pool on first use."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
