"""Ctrl-C during apply: the first one stops the run gently, the second one at once.

The first SIGINT is acknowledged at once and sets the run's :class:`Stop`: the actions in
flight finish (an ARM long-running operation or a trust publish cut in half is the worst
state to leave), nothing new starts, and the run ends with its usual summary. A second
SIGINT means "now": the process exits at once with status 130, without unwinding, so no
worker thread meets a closed HTTP transport and prints a failure that did not happen.
Every action is idempotent, so a rerun converges either way.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from acr_reconcile.apply.executor import Stop

EXIT_INTERRUPTED = 130


@contextmanager
def gentle_interrupts(stop: Stop, say: Callable[[str], None]) -> Iterator[None]:
    """SIGINT handling for the span of one run (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if not stop.is_set():
            stop.set()
            say(
                f"Interrupt received: finishing {stop.running} running action(s), starting "
                "no new ones (Ctrl-C again stops at once)"
            )
            return
        say(
            "Second interrupt: stopping at once; actions in flight were cut off. "
            "Run apply again: it converges from here."
        )
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
