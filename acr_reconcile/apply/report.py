"""What an apply tells its user: the closing counts, and ``--output json`` events.

The closing line counts what the plan counted ("8 added, 1 changed, 0 destroyed"), per
change, not per unit of work: one trust publish signs several tags, and a user compares
the line with the plan's "Plan: 8 to add, 1 to change, 0 to destroy.".

With ``--output json`` stdout carries one JSON object per line (Terraform's ``-json``
machine-readable UI in spirit): ``apply_start``, ``apply_complete``, ``apply_errored``,
``apply_skipped`` per change, then one ``change_summary``. The shape is documented in
docs/plan-json.md.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from acr_reconcile.apply.executor import ActionResult, ApplyResult, Status
from acr_reconcile.errors import Diagnostic
from acr_reconcile.plan.folding import folded_addresses
from acr_reconcile.plan.model import Action, Change, Plan

_VERB = {Action.CREATE: "added", Action.UPDATE: "changed", Action.DELETE: "destroyed"}


@dataclass(frozen=True)
class Outcome:
    added: int
    changed: int
    destroyed: int
    failed: int
    skipped: int

    def line(self) -> str:
        text = f"{self.added} added, {self.changed} changed, {self.destroyed} destroyed"
        if self.failed or self.skipped:
            text += f"; {self.failed} failed, {self.skipped} skipped"
        return text

    def as_dict(self) -> dict[str, int]:
        return {
            "add": self.added,
            "change": self.changed,
            "remove": self.destroyed,
            "failed": self.failed,
            "skipped": self.skipped,
        }


def outcome(plan: Plan, result: ApplyResult) -> Outcome:
    """Per change of the plan, as the plan counted it (``codec.counts``): added, changed
    or destroyed when done, else failed or skipped."""
    tally = {"added": 0, "changed": 0, "destroyed": 0, "failed": 0, "skipped": 0}
    with_registry = folded_addresses(plan.changes)  # counted with the registry it completes
    for change in plan.pending:
        status = result.status_of(change.address)
        if status is Status.DONE and change.address in with_registry:
            continue
        if status is Status.DONE:
            tally[_VERB[change.action]] += 1
        elif status is Status.FAILED:
            tally["failed"] += 1
        elif status is Status.SKIPPED:
            tally["skipped"] += 1
    return Outcome(**tally)


def _resource(change: Change) -> dict[str, Any]:
    return {
        "address": change.address,
        "kind": change.kind.value,
        "action": change.action.value,
        "resource_id": change.resource_id,
        "summary": change.summary,
    }


_EVENT = {Status.DONE: "apply_complete", Status.FAILED: "apply_errored"}
_EVENT[Status.SKIPPED] = "apply_skipped"


def diagnostic_event(d: Diagnostic) -> dict[str, Any]:
    return {
        "type": "diagnostic",
        "severity": d.severity,
        "resource": d.resource,
        "message": d.message,
        "location": d.location,
        "details": dict(d.details),
    }


def planned_events(plan: Plan) -> list[dict[str, Any]]:
    """What apply is about to do, as events: each finding, then each pending change."""
    events: list[dict[str, Any]] = [diagnostic_event(d) for d in plan.diagnostics]
    events += [
        {"type": "planned_change", "change": _resource(c), "reason": c.reason.value}
        for c in plan.pending
    ]
    return events


class JsonProgress:
    """Executor progress as JSON Lines: one object per change started or ended."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def emit(self, event: dict[str, Any]) -> None:
        with self._lock:
            self.stream.write(json.dumps(event, ensure_ascii=False, sort_keys=True) + "\n")
            self.stream.flush()

    def started(self, unit: Sequence[Change]) -> None:
        for change in unit:
            self.emit({"type": "apply_start", "change": _resource(change)})

    def note(self, text: str) -> None:
        """A message while an action runs (e.g. waiting for Key Vault to honour a role)."""
        self.emit({"type": "apply_progress", "message": text})

    def finished(self, unit: Sequence[Change], result: ActionResult) -> None:
        for change in unit:
            event: dict[str, Any] = {
                "type": _EVENT[result.status],
                "change": _resource(change),
                "elapsed_seconds": round(result.seconds, 3),
            }
            event["error" if result.status is Status.FAILED else "note"] = result.note
            self.emit(event)

    def skipped(self, plan: Plan, result: ApplyResult) -> None:
        """Skipped units never start, so the executor reports them to no one: say so here."""
        for unit in result.of(Status.SKIPPED):
            for change in plan.pending:
                if change.address in unit.addresses:
                    event = {"type": "apply_skipped", "change": _resource(change)}
                    self.emit(event | {"note": unit.note})

    def summary(self, counted: Outcome) -> None:
        self.emit({"type": "change_summary", "operation": "apply", "changes": counted.as_dict()})
