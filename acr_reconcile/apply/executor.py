"""Carry out a plan: dependency order, bounded concurrency, dependents of failures skipped.

Changes are grouped into units (a unit is usually one change; all signature changes of
one repository form one unit, as one trust publish covers them). A unit runs once every
unit it depends on has succeeded; when one fails, everything downstream of it is skipped
and reported once, as ``upstream failed``, while independent work goes on to the end.
That leaves Azure in a state a re-run of the same plan or spec converges from.

A :class:`Stop` set while the run goes (the first Ctrl-C) lets the running units finish
and starts no new one; those never started are reported as skipped, ``not started``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Protocol

from acr_reconcile.errors import AcrReconcileError, ApplyError
from acr_reconcile.plan.model import Change, Plan
from acr_reconcile.redact import redact

DEFAULT_PARALLELISM = 10

# runs one unit of changes; returns a short note ("created", "already present") or raises
UnitRunner = Callable[[Sequence[Change]], str]
# changes with the same non-None key run as one unit
GroupKey = Callable[[Change], str | None]


class Status(StrEnum):
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"  # a unit it depends on failed (Terraform's upstreamFailed)


@dataclass(frozen=True)
class ActionResult:
    address: str  # the unit's label: its first change's address (+ how many more)
    status: Status
    note: str = ""
    seconds: float = 0.0
    addresses: tuple[str, ...] = ()  # every change of the unit


NOT_STARTED = "not started: the run was interrupted"


class Stop:
    """Asks a run to start nothing more; tells how many units are running right now."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.running = 0

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()


@dataclass(frozen=True)
class ApplyResult:
    results: tuple[ActionResult, ...]
    interrupted: bool = False

    def of(self, status: Status) -> list[ActionResult]:
        return [r for r in self.results if r.status is status]

    def status_of(self, address: str) -> Status | None:
        """The outcome of one change (None when it was not part of the run)."""
        return self._status_by_address.get(address)

    @cached_property
    def _status_by_address(self) -> dict[str, Status]:
        """Every change's outcome by address, built once: the report and the applied
        record ask for each change, and scanning every unit's addresses per change made
        a 10,000-signature apply quadratic. The first unit naming an address wins, as
        the scan did."""
        found: dict[str, Status] = {}
        for result in self.results:
            for address in result.addresses:
                found.setdefault(address, result.status)
        return found

    def raise_for_failures(self) -> None:
        failed = self.of(Status.FAILED)
        if failed:
            skipped = [r.address for r in self.of(Status.SKIPPED)]
            raise ApplyError([f"{r.address}: {r.note}" for r in failed], skipped)


class Progress(Protocol):
    def started(self, unit: Sequence[Change]) -> None: ...

    def finished(self, unit: Sequence[Change], result: ActionResult) -> None: ...


@dataclass
class _Unit:
    changes: list[Change]
    needs: set[int]

    @property
    def addresses(self) -> tuple[str, ...]:
        return tuple(c.address for c in self.changes)

    @property
    def label(self) -> str:
        first = self.changes[0].address
        return first if len(self.changes) == 1 else f"{first} (+{len(self.changes) - 1})"


def build_units(changes: Sequence[Change], group: GroupKey | None = None) -> list[_Unit]:
    """Pending changes grouped into units, with the units each one needs first."""
    units: list[_Unit] = []
    by_key: dict[str, int] = {}
    unit_of: dict[str, int] = {}
    for change in changes:
        key = group(change) if group else None
        if key is not None and key in by_key:
            index = by_key[key]
            units[index].changes.append(change)
        else:
            index = len(units)
            units.append(_Unit([change], set()))
            if key is not None:
                by_key[key] = index
        unit_of[change.address] = index
    for index, unit in enumerate(units):
        for change in unit.changes:
            unit.needs |= {unit_of[d] for d in change.depends_on if d in unit_of} - {index}
    return units


def _describe(error: BaseException) -> str:
    if isinstance(error, AcrReconcileError):
        return redact(str(error))
    return redact(f"{type(error).__name__}: {error}")  # a bug: keep enough to report it


def execute(
    plan: Plan,
    run: UnitRunner,
    *,
    parallelism: int = DEFAULT_PARALLELISM,
    group: GroupKey | None = None,
    progress: Progress | None = None,
    stop: Stop | None = None,
) -> ApplyResult:
    """Run every pending change of ``plan``; never raises for a failed action."""
    units = build_units(plan.pending, group)
    return _Run(units, run, progress, stop or Stop()).go(max(1, parallelism))


class _Run:
    def __init__(
        self, units: list[_Unit], run: UnitRunner, progress: Progress | None, stop: Stop
    ) -> None:
        self.units = units
        self.run = run
        self.progress = progress
        self.stop = stop
        self.results: dict[int, ActionResult] = {}

    def go(self, parallelism: int) -> ApplyResult:
        running: dict[Future[ActionResult], int] = {}
        with ThreadPoolExecutor(max_workers=parallelism, thread_name_prefix="apply") as pool:
            while True:
                if not self.stop.is_set():
                    for index in self._ready(set(running.values())):
                        self.stop.running = len(running) + 1  # counted before it can start
                        running[pool.submit(self._one, index)] = index
                self.stop.running = len(running)
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    index = running.pop(future)
                    self.results[index] = future.result()
                    if self.results[index].status is Status.FAILED:
                        self._skip_downstream(index)
                self.stop.running = len(running)
        interrupted = self.stop.is_set()
        if interrupted:
            self._skip_not_started()
        self._skip_unreachable()
        ordered = [self.results[i] for i in range(len(self.units))]
        return ApplyResult(tuple(ordered), interrupted)

    def _skip_not_started(self) -> None:
        for index, unit in enumerate(self.units):
            if index not in self.results:
                self.results[index] = ActionResult(
                    unit.label, Status.SKIPPED, NOT_STARTED, 0.0, unit.addresses
                )

    def _ready(self, running: set[int]) -> list[int]:
        return [
            i
            for i, unit in enumerate(self.units)
            if i not in self.results
            and i not in running
            and all(self.results.get(n, _PENDING).status is Status.DONE for n in unit.needs)
        ]

    def _one(self, index: int) -> ActionResult:
        unit = self.units[index]
        if self.progress:
            self.progress.started(unit.changes)
        started = time.monotonic()
        try:
            note = self.run(unit.changes)
            elapsed = time.monotonic() - started
            result = ActionResult(unit.label, Status.DONE, note, elapsed, unit.addresses)
        except Exception as error:  # every failure is reported; dependents are skipped
            elapsed = time.monotonic() - started
            result = ActionResult(
                unit.label, Status.FAILED, _describe(error), elapsed, unit.addresses
            )
        if self.progress:
            self.progress.finished(unit.changes, result)
        return result

    def _skip_downstream(self, failed: int) -> None:
        root = self.units[failed].label
        frontier = [failed]
        while frontier:
            current = frontier.pop()
            for index, unit in enumerate(self.units):
                if current in unit.needs and index not in self.results:
                    note = f"upstream failed: {root}"
                    self.results[index] = ActionResult(
                        unit.label, Status.SKIPPED, note, 0.0, unit.addresses
                    )
                    frontier.append(index)

    def _skip_unreachable(self) -> None:
        for index, unit in enumerate(self.units):
            if index not in self.results:  # only a dependency cycle gets here
                note = "dependency cycle in the plan"
                self.results[index] = ActionResult(
                    unit.label, Status.FAILED, note, 0.0, unit.addresses
                )


_PENDING = ActionResult("", Status.SKIPPED)
