"""Many small registry reads of one login server at once, on a bounded pool of threads.

A plan of a registry with many declared tags reads each tag's manifest and each tag's
signatures (listing, signature manifest, envelope): a few milliseconds of network each,
so read one after another, 1,000 signed tags took about 20 s where the machine was idle
most of the time. Reads of one login server share its client (one connection pool, one
token cache) and go out at most ``PER_REGISTRY`` at a time, so a registry never sees more
than that from one run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

PER_REGISTRY = 8  # below requests' default pool of 10 connections per host
T = TypeVar("T")
R = TypeVar("R")


def read_all(work: Callable[[T], R], items: Iterable[T], name: str = "registry-read") -> list[R]:
    """``[work(item) for item in items]`` on up to PER_REGISTRY threads, in item order.
    The first failure (in item order) is raised as it is, and reads not yet started are
    dropped, as the sequential loop would not have made them."""
    todo = list(items)
    if len(todo) <= 1:
        return [work(item) for item in todo]
    pool = ThreadPoolExecutor(max_workers=min(PER_REGISTRY, len(todo)), thread_name_prefix=name)
    try:
        futures = [pool.submit(work, item) for item in todo]
        return [future.result() for future in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
