"""Planner invariants over generated specs and live states (hypothesis).

The data-file cases pin behaviour; these check what must hold for any input: the planner
never crashes, is deterministic, orders dependencies first, pairs actions with reasons
coherently, flags every target with an error as such, and its JSON follows the schema.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from planner_live import build_documents, build_live, build_rules

from acr_reconcile.plan.model import Action, Plan, Reason, TrustPolicyParams
from acr_reconcile.plan.planner import plan
from acr_reconcile.plan.render_json import render_json

SCHEMA = json.loads(
    (Path(__file__).parents[3] / "docs" / "plan-json.schema.json").read_text(encoding="utf-8")
)
DIGESTS = ["sha256:" + c * 64 for c in "12"]
TRUST = ["signed", "stale", "unsigned", "no-trust-data", "invalid"]

_REASONS = {
    Action.NOOP: {Reason.IN_SYNC, Reason.ADOPTED},
    Action.CREATE: {Reason.MISSING, Reason.DRIFT},
    Action.UPDATE: {Reason.DRIFT, Reason.SPEC_CHANGED, Reason.MISSING},
    Action.DELETE: {Reason.DRIFT, Reason.SPEC_CHANGED, Reason.PRUNE},
}


@st.composite
def _tag(draw: st.DrawFn, name: str) -> dict[str, Any]:
    trust = draw(st.sampled_from(TRUST))
    digest = draw(st.sampled_from(DIGESTS))
    signed = draw(st.sampled_from(DIGESTS)) if trust in ("signed", "stale") else None
    return {"repository": "app", "tag": name, "digest": digest, "size": 500, "trust": trust,
            "signedDigest": signed, "signedSize": 500 if signed else None}  # fmt: skip


@st.composite
def _registry(draw: st.DrawFn) -> dict[str, Any]:
    roles = draw(st.lists(st.sampled_from(["AcrPush", "AcrImageSigner", "AcrPull"]), max_size=3))
    other = "bbbbbbbb-0000-0000-0000-000000000002"
    return {
        "sku": draw(st.sampled_from(["Basic", "Standard", "Premium"])),
        "trust": draw(st.sampled_from(["enabled", "disabled"])),
        "adminUserEnabled": draw(st.booleans()),
        "mode": draw(st.sampled_from(["LegacyRegistryPermissions", "AbacRepositoryPermissions"])),
        "encryption": draw(st.booleans()),
        "applied": draw(st.booleans()),
        "resourceGroup": draw(st.sampled_from(["resourcegroupdavid", "elsewhere"])),
        "signerRoles": draw(st.booleans()),
        "roleAssignments": [{"role": r, "principal": other} for r in roles],
        "images": [draw(_tag(t)) for t in draw(st.lists(st.sampled_from(["a", "b"]), unique=True))],
        "repositories": [{"repository": "app", "valid": draw(st.booleans())}],
    }


@st.composite
def _case(draw: st.DrawFn) -> dict[str, Any]:
    trust = draw(st.sampled_from(["enabled", "disabled"]))
    image = {
        "repository": "app",
        "tags": ["a", "b"],
        # sign: true without content trust (and without notation) is a spec error.
        "sign": draw(st.booleans()) if trust == "enabled" else False,
        "source": draw(st.sampled_from([None, "docker.io/library/app:1"])),
    }
    spec = {
        "registry": {
            "sku": "Premium" if trust == "enabled" else draw(st.sampled_from(["Basic", "Premium"])),
            "contentTrust": trust,
            "adminUserEnabled": draw(st.booleans()),
        },
        "roleAssignments": {"prune": draw(st.booleans())},
        "images": draw(st.sampled_from([[], [image]])),
    }
    live: dict[str, Any] = {
        "caller": draw(st.sampled_from([None, "bbbbbbbb-0000-0000-0000-000000000002"])),
        "resourceGroups": draw(st.sampled_from([[], [{}], [{"location": "northeurope"}]])),
        "registries": draw(st.lists(_registry(), max_size=1)),
        "signing": draw(st.sampled_from([None, {"repositoryPassphrase": False}])),
    }
    rules = {"newTrustEnablementAllowed": draw(st.booleans())}
    return {"spec": spec, "live": live, "rules": rules}


def _check(result: Plan) -> None:
    seen: set[str] = set()
    for change in result.changes:
        assert all(d in seen for d in change.depends_on), change.address
        assert change.reason in _REASONS[change.action], (change.action, change.reason)
        seen.add(change.address)
    for target in result.targets:
        errors = [d for d in result.errors if d.details.get("target", "").endswith(target.registry)]
        assert (target.status == "error") == bool(errors)
    destroys = any(
        c.is_change and isinstance(c.params, TrustPolicyParams) and c.params.destructive
        for c in result.changes
    )
    assert result.destroys_trust == destroys


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_case())
def test_planner_invariants(case: dict[str, Any]) -> None:
    docs = build_documents(case, "generated.yaml")
    live, rules = build_live(case, docs), build_rules(case)
    result = plan(docs, live, rules)
    _check(result)
    assert plan(docs, build_live(case, docs), rules) == result
    jsonschema.validate(json.loads(render_json(result)), SCHEMA)
