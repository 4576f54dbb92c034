"""Apply of a saved plan refuses before any write when the identity applying it needs Key
Vault roles the plan grants to someone else (the identity that made it)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from acr_reconcile.apply.readiness import require_same_caller
from acr_reconcile.errors import SigningKeyError
from acr_reconcile.plan.model import Plan, RoleAssignmentParams
from acr_reconcile.plan.planner import plan

PLANNER = Path(__file__).parents[1] / "planner"
sys.path.insert(0, str(PLANNER))
from planner_live import build_documents, build_live, build_rules  # noqa: E402

CASE = "keyvault-creates-vault-certificate-and-roles.yaml"


def _plan(caller: str) -> Plan:
    case: dict[str, Any] = yaml.safe_load((PLANNER / "cases" / CASE).read_text())
    case["live"]["caller"] = caller
    docs = build_documents(case, CASE)
    return plan(docs, build_live(case, docs), build_rules(case))


def test_the_caller_roles_are_marked_in_the_plan() -> None:
    made = _plan("cccccccc-0000-0000-0000-00000000000c")
    marked = [
        c.params.principal_id
        for c in made.pending
        if isinstance(c.params, RoleAssignmentParams) and c.params.for_caller
    ]
    assert marked == ["cccccccc-0000-0000-0000-00000000000c"] * 3


def test_same_identity_passes() -> None:
    caller = "cccccccc-0000-0000-0000-00000000000c"
    require_same_caller(_plan(caller), _plan(caller))  # no exception: nothing missing


def test_another_identity_is_refused_naming_the_roles_it_needs() -> None:
    saved = _plan("cccccccc-0000-0000-0000-00000000000c")
    with pytest.raises(SigningKeyError) as refused:
        require_same_caller(saved, _plan("dddddddd-0000-0000-0000-00000000000d"))
    message = str(refused.value)
    assert "Key Vault Crypto User for the identity running apply (dddddddd" in message
    assert "nothing was changed" in message
