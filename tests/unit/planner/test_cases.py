"""Runs every planner case in cases/*.yaml: spec + compact live state -> expected plan.

Expectations (all optional):
- ``changes``: exactly the pending changes, in plan order; each entry matches on the
  fields it gives (kind, action, reason, address/summary/location fragments, diff paths,
  params subset, dependsOn fragments, before/after subset);
- ``noops``: no-op changes that must be present (subset);
- ``diagnostics``: every listed one must be present; the number of errors must match;
- ``status``: target statuses in document order; ``destroysTrust``: Plan.destroys_trust.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from planner_live import build_documents, build_live, build_rules

from acr_reconcile.errors import Diagnostic
from acr_reconcile.plan.codec import params_to_dict
from acr_reconcile.plan.model import Change, Plan
from acr_reconcile.plan.planner import plan

CASES = sorted((Path(__file__).parent / "cases").glob("*.yaml"))


def _subset(expected: Any, actual: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and _subset(v, actual[k]) for k, v in expected.items()
        )
    return bool(expected == actual)


def _matches(want: dict[str, Any], change: Change) -> list[str]:
    """The reasons ``change`` does not match ``want`` (empty when it does)."""
    misses = []
    for field in ("kind", "action", "reason"):
        if field in want and str(getattr(change, field)) != want[field]:
            misses.append(f"{field} {getattr(change, field)} != {want[field]}")
    for field in ("address", "summary", "spec_location"):
        key = {"spec_location": "location"}.get(field, field)
        if key in want and want[key] not in (getattr(change, field) or ""):
            misses.append(f"{field} {getattr(change, field)!r} lacks {want[key]!r}")
    if "diff" in want and sorted(d.path for d in change.diff) != sorted(want["diff"]):
        misses.append(f"diff {[d.path for d in change.diff]} != {want['diff']}")
    for field in ("params", "before", "after"):
        value = params_to_dict(change.params) if field == "params" else getattr(change, field)
        if field in want and not _subset(want[field], value):
            misses.append(f"{field} {value} does not contain {want[field]}")
    for fragment in want.get("dependsOn", []):
        if not any(fragment in d for d in change.depends_on):
            misses.append(f"depends_on {change.depends_on} lacks {fragment!r}")
    return misses


def _describe(change: Change) -> str:
    return f"{change.action} {change.kind} {change.address} [{change.reason}]"


def _check_changes(result: Plan, expected: list[dict[str, Any]]) -> None:
    pending = result.pending
    listing = "\n".join(_describe(c) for c in pending)
    assert len(pending) == len(expected), f"pending changes:\n{listing}"
    for index, (want, change) in enumerate(zip(expected, pending, strict=True)):
        misses = _matches(want, change)
        assert not misses, f"change {index} ({_describe(change)}): {misses}\nall:\n{listing}"


def _check_noops(result: Plan, expected: list[dict[str, Any]]) -> None:
    noops = [c for c in result.changes if not c.is_change]
    for want in expected:
        assert any(not _matches(want, c) for c in noops), (
            f"no no-op matches {want}; no-ops:\n" + "\n".join(_describe(c) for c in noops)
        )


def _diag_matches(want: dict[str, Any], diagnostic: Diagnostic) -> bool:
    return (
        want.get("severity", diagnostic.severity) == diagnostic.severity
        and all(f in diagnostic.message for f in _fragments(want.get("message", "")))
        and want.get("location", "") in (diagnostic.location or "")
        and want.get("rule", diagnostic.details.get("rule")) == diagnostic.details.get("rule")
        and want.get("blocks", diagnostic.details.get("blocks")) == diagnostic.details.get("blocks")
    )


def _fragments(message: str | list[str]) -> list[str]:
    return [message] if isinstance(message, str) else message


def _check_diagnostics(result: Plan, expected: list[dict[str, Any]]) -> None:
    shown = "\n".join(str(d) for d in result.diagnostics)
    for want in expected:
        assert any(_diag_matches(want, d) for d in result.diagnostics), (
            f"missing diagnostic {want}; got:\n{shown}"
        )
    errors = [w for w in expected if w.get("severity") == "error"]
    assert len(result.errors) == len(errors), f"errors differ; got:\n{shown}"


def _check_order(result: Plan) -> None:
    """Every dependency is in the plan, before its dependent; addresses are unique."""
    seen: set[str] = set()
    addresses = {c.address for c in result.changes}
    assert len(addresses) == len(result.changes), "duplicate addresses"
    for change in result.changes:
        for dependency in change.depends_on:
            assert dependency in seen, f"{change.address} needs {dependency}, not before it"
        seen.add(change.address)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case(path: Path) -> None:
    case = yaml.safe_load(path.read_text())
    docs = build_documents(case, path.name)
    result = plan(docs, build_live(case, docs), build_rules(case))
    expect = case["expect"]
    _check_diagnostics(result, expect.get("diagnostics", []))
    _check_changes(result, expect.get("changes", []))
    _check_noops(result, expect.get("noops", []))
    if "status" in expect:
        assert [t.status for t in result.targets] == expect["status"]
    assert result.destroys_trust is expect.get("destroysTrust", False)
    _check_order(result)
    # the planner is deterministic and its output is plain data
    again = plan(docs, build_live(case, docs), build_rules(case))
    assert again == result
    json.dumps([params_to_dict(c.params) for c in result.changes])


def test_there_are_many_cases() -> None:
    assert len(CASES) >= 30
