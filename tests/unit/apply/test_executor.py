"""The executor's scheduling: order, bounded concurrency, skipped dependents, grouping."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from acr_reconcile.apply.executor import Status, execute
from acr_reconcile.errors import ApplyError, TerminalAzureError
from acr_reconcile.plan.model import Action, Change, Kind, Plan, Reason, TagSignatureParams
from tests.support.changes import params_for


def change(
    address: str,
    *deps: str,
    kind: Kind = Kind.REGISTRY,
    action: Action = Action.CREATE,
    **params: object,
) -> Change:
    return Change(
        address=address,
        kind=kind,
        action=action,
        reason=Reason.MISSING,
        resource_id=f"/x/{address}",
        summary=address,
        depends_on=deps,
        params=params_for(kind, **params),
    )


class Recorder:
    def __init__(self, fail: frozenset[str] = frozenset(), delay: float = 0.0) -> None:
        self.fail = fail
        self.delay = delay
        self.calls: list[list[str]] = []
        self.active = 0
        self.max_active = 0
        self.lock = threading.Lock()

    def __call__(self, unit: Sequence[Change]) -> str:
        with self.lock:
            self.calls.append([c.address for c in unit])
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            time.sleep(self.delay)
            if any(c.address in self.fail for c in unit):
                raise TerminalAzureError(unit[0].address, "refused", status=400, code="Bad")
            return "ok"
        finally:
            with self.lock:
                self.active -= 1

    def order(self) -> list[str]:
        return [a for call in self.calls for a in call]


def test_dependencies_run_first_and_noops_are_not_run() -> None:
    plan = Plan(
        (
            change("rg"),
            change("reg", "rg"),
            change("trust", "reg"),
            change("ra", "reg"),
            change("same", action=Action.NOOP),
        )
    )
    rec = Recorder()
    result = execute(plan, rec)
    order = rec.order()
    assert "same" not in order
    assert order.index("rg") < order.index("reg") < min(order.index("trust"), order.index("ra"))
    assert [r.status for r in result.results] == [Status.DONE] * 4


def test_independent_units_run_concurrently_within_the_bound() -> None:
    plan = Plan(tuple(change(f"ra{i}") for i in range(6)))
    rec = Recorder(delay=0.05)
    execute(plan, rec, parallelism=2)
    assert rec.max_active == 2
    rec = Recorder(delay=0.05)
    execute(plan, rec, parallelism=1)
    assert rec.max_active == 1


def test_failure_skips_all_dependents_once_and_lets_independent_work_finish() -> None:
    plan = Plan(
        (
            change("rg"),
            change("reg", "rg"),
            change("trust", "reg"),
            change("sig", "trust"),
            change("other-rg"),
        )
    )
    rec = Recorder(fail=frozenset({"reg"}))
    result = execute(plan, rec)
    statuses = {r.address: r.status for r in result.results}
    assert statuses == {
        "rg": Status.DONE,
        "reg": Status.FAILED,
        "trust": Status.SKIPPED,
        "sig": Status.SKIPPED,
        "other-rg": Status.DONE,
    }
    assert {r.note for r in result.of(Status.SKIPPED)} == {"upstream failed: reg"}
    assert "trust" not in rec.order() and "sig" not in rec.order()
    with pytest.raises(ApplyError) as raised:
        result.raise_for_failures()
    message = str(raised.value)
    assert "reg: " in message and "refused" in message
    assert "skipped 2 dependent action(s): trust, sig" in message


def test_grouped_changes_run_as_one_call_after_all_their_dependencies() -> None:
    sig = Kind.TAG_SIGNATURE
    plan = Plan(
        (
            change("imp", kind=Kind.IMAGE_IMPORT),
            change("sig:a", "imp", kind=sig, repository="hello"),
            change("sig:b", kind=sig, repository="hello"),
            change("sig:c", kind=sig, repository="other"),
        )
    )
    rec = Recorder()

    def by_repo(c: Change) -> str | None:
        return c.params_as(TagSignatureParams).repository if c.kind is sig else None

    result = execute(plan, rec, group=by_repo)
    assert sorted(rec.calls) == [["imp"], ["sig:a", "sig:b"], ["sig:c"]]
    assert ["sig:a", "sig:b"] in rec.calls
    assert rec.calls.index(["sig:a", "sig:b"]) > rec.calls.index(["imp"])
    assert len(result.results) == 3


def test_a_dependency_cycle_fails_instead_of_hanging() -> None:
    plan = Plan((change("a", "b"), change("b", "a"), change("c")))
    result = execute(plan, Recorder())
    assert {r.address: r.status for r in result.results} == {
        "a": Status.FAILED,
        "b": Status.FAILED,
        "c": Status.DONE,
    }


def test_an_unexpected_exception_is_a_failure_not_a_crash() -> None:
    def boom(unit: Sequence[Change]) -> str:
        raise KeyError("params.location")

    result = execute(Plan((change("rg"), change("reg", "rg"))), boom)
    assert [r.status for r in result.results] == [Status.FAILED, Status.SKIPPED]
    assert "KeyError" in result.results[0].note


def test_a_target_counts_as_applied_only_when_all_its_changes_succeeded() -> None:
    from dataclasses import replace

    from acr_reconcile.apply.applied import _completed_targets

    plan = Plan(
        (
            replace(change("ra1"), target="s/ok"),
            replace(change("ra2"), target="s/bad"),
            replace(change("sig", "ra2"), target="s/bad"),
            replace(change("reg", action=Action.NOOP), target="s/quiet"),
        )
    )
    result = execute(plan, Recorder(fail=frozenset({"ra2"})))
    assert result.status_of("sig") is Status.SKIPPED and result.status_of("reg") is None
    # a target with nothing pending is complete too: its record may still be missing (a
    # run killed between its last change and the record), and the rerun writes it
    assert _completed_targets(plan, result) == {"s/ok", "s/quiet"}
