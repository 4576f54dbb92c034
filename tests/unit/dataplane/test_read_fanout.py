"""Registry reads fanned out on a bounded pool: answers in the order asked, never more
than PER_REGISTRY at once, and the first failure (in order) raised as it is, with reads
not yet started dropped."""

from __future__ import annotations

import threading
import time

import pytest

from acr_reconcile.errors import RegistryError
from acr_reconcile.live.fanout import PER_REGISTRY, read_all


def test_answers_keep_the_order_of_the_items() -> None:
    items = list(range(50))
    assert read_all(lambda i: i * i, items) == [i * i for i in items]


def test_at_most_per_registry_reads_run_at_once() -> None:
    lock = threading.Lock()
    running = peak = 0
    both_started = threading.Barrier(2)

    def read(_: int) -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        both_started.wait(timeout=5)  # proves two reads overlap (a sequential loop hangs here)
        time.sleep(0.01)
        with lock:
            running -= 1

    read_all(read, range(4 * PER_REGISTRY))
    assert 2 <= peak <= PER_REGISTRY


def test_the_first_failure_in_item_order_is_raised() -> None:
    def read(i: int) -> int:
        if i in (3, 7):
            raise RegistryError(f"read {i} failed", status=500)
        return i

    with pytest.raises(RegistryError, match="read 3 failed"):
        read_all(read, range(10))


def test_a_single_item_is_read_on_the_calling_thread() -> None:
    caller = threading.current_thread()
    assert read_all(lambda _: threading.current_thread(), ["only"]) == [caller]
    assert read_all(lambda _: 1, []) == []
