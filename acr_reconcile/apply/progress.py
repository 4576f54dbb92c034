"""Progress of an apply: a live status line per running action on a TTY, plain lines else.

Plain lines (one when an action starts, one when it ends) keep CI logs readable and
greppable; the TTY view shows only what is running now, then the outcome of each, folded
to the terminal's width as the plan is.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from acr_reconcile.apply.executor import ActionResult, Status
from acr_reconcile.plan.model import Change

if TYPE_CHECKING:
    from rich.text import Text

_VERB = {"create": "creating", "update": "updating", "delete": "deleting", "no-op": "checking"}
_MARK = {Status.DONE: "done", Status.FAILED: "FAILED", Status.SKIPPED: "skipped"}
_HANG = 10  # continuations of a folded outcome line start under its action's name


def _label(unit: Sequence[Change]) -> str:
    first = unit[0]
    more = f" (+{len(unit) - 1} more)" if len(unit) > 1 else ""
    return f"{first.summary or first.address}{more}"


class PlainProgress:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def _line(self, text: str) -> None:
        with self._lock:
            print(text, file=self.stream, flush=True)

    def started(self, unit: Sequence[Change]) -> None:
        self._line(f"{_label(unit)}: {_VERB[unit[0].action.value]}...")

    def note(self, text: str) -> None:
        """A message while an action runs (e.g. waiting for Key Vault)."""
        self._line(text)

    def finished(self, unit: Sequence[Change], result: ActionResult) -> None:
        note = f": {result.note}" if result.note else ""
        self._line(f"{_label(unit)}: {_MARK[result.status]} after {result.seconds:.1f}s{note}")


class RichProgress:
    """A rich Progress with a spinner per running action; finished ones print above it."""

    def __init__(self, console: Any) -> None:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.console = console
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._tasks: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> RichProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def _print(self, line: Text) -> None:
        """One line above the live view, folded to the terminal (render_wrap.py): an
        action's name is as long as the plan's change line it comes from."""
        from rich.text import Text

        from acr_reconcile.plan.render_wrap import fit

        pieces = fit(line, self.console.width, hang=_HANG)
        self.progress.console.print(Text("\n").join(pieces))  # in one go, above the live view

    def note(self, text: str) -> None:
        """A message while an action runs, printed above the live view."""
        from rich.text import Text as Plain

        self._print(Plain(text))

    def started(self, unit: Sequence[Change]) -> None:
        text = f"{_label(unit)}: {_VERB[unit[0].action.value]}"
        with self._lock:
            self._tasks[unit[0].address] = self.progress.add_task(text, total=None)

    def finished(self, unit: Sequence[Change], result: ActionResult) -> None:
        from rich.text import Text

        style = {Status.DONE: "green", Status.FAILED: "bold red", Status.SKIPPED: "yellow"}
        with self._lock:
            task = self._tasks.pop(unit[0].address, None)
            if task is not None:
                self.progress.remove_task(task)
                self.progress.refresh()  # else the stale spinner is redrawn under the line
        line = Text(f"{_MARK[result.status]:>7} ", style=style[result.status])
        line.append(f"{_label(unit)} ({result.seconds:.1f}s)")
        if result.note:
            line.append(f": {result.note}", style="dim")
        self._print(line)
