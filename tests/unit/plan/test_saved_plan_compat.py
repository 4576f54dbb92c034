"""Plan files written before change parameters were typed still apply, or are refused.

``data/plan-0.1.0-walkthrough.json`` is a plan file as ``plan --out`` wrote it before the
change (the walkthrough on an empty subscription: every kind of change). It must read
into typed parameters and encode back to the very same ``params`` objects, so the file
format and ``--output json`` are unchanged; a file whose parameters do not fit (a missing
or unknown key, a wrong type) is refused naming the change, never applied by guesswork.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from plan_fixtures import LEGACY, WALKTHROUGH, documents, empty_live, synced_live

from acr_reconcile.errors import ConfigError
from acr_reconcile.plan.codec import params_from_dict, params_to_dict, plan_to_dict
from acr_reconcile.plan.model import PARAMS_TYPES, Kind, RoleAssignmentParams
from acr_reconcile.plan.planfile import read_plan
from acr_reconcile.plan.planner import plan

PRUNED = "ffffffff-0000-4000-8000-000000000000"
OLD = Path(__file__).parent / "data" / "plan-0.1.0-walkthrough.json"


def _old() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(OLD.read_text(encoding="utf-8"))
    return data


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "old.plan"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_a_plan_file_from_before_reads_into_typed_parameters() -> None:
    saved = read_plan(OLD)
    kinds = {c.kind for c in saved.plan.changes}
    # the file covers every kind of format 1.0 (1.1 added the Key Vault kinds, 1.2 the
    # Notary Project signature, 1.4 the verification of a migration's signatures)
    later = {
        Kind.KEY_VAULT,
        Kind.SIGNING_CERTIFICATE,
        Kind.NOTATION_SIGNATURE,
        Kind.SIGNATURE_VERIFICATION,
    }
    assert kinds == set(Kind) - later
    for change in saved.plan.changes:
        assert type(change.params) is PARAMS_TYPES[change.kind]
    raw = [c["params"] for c in _old()["plan"]["changes"]]
    assert [params_to_dict(c.params) for c in saved.plan.changes] == raw
    # encoded today, only the counts differ: since 1.3 they count as the text plan does,
    # the new registry's trust policy with the registry (docs/plan-json.md)
    expected = _old()["plan"]
    expected["summary"].update(change=0, folded=1)
    assert plan_to_dict(saved.plan, observed=True) == expected


def test_a_plan_file_from_before_is_the_plan_made_today() -> None:
    """Same spec, same live state: the old file and a fresh plan are equal values."""
    fresh = plan(documents(), empty_live(), LEGACY)
    old = read_plan(OLD).plan
    # the file's per-document count is of 1.0's kind (every entry); today's counts the
    # trust policy of the new registry with the registry: everything else is equal
    assert [t.changes for t in old.targets] == [t.changes + 1 for t in fresh.targets]
    assert old == replace(fresh, format_version="1.0", targets=old.targets)


def _role_assignment(data: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in data["plan"]["changes"] if c["kind"] == "role-assignment")


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (lambda p: p.pop("principal_id"), "parameter 'principal_id' missing"),
        (lambda p: p.update(assignment_name=p["name"]), "unknown role-assignment parameter"),
        (lambda p: p.update(principal_id=7), "parameter 'principal_id' has the wrong type"),
    ],
)
def test_parameters_this_version_does_not_read_are_refused_naming_the_change(
    tmp_path: Path, damage: Any, says: str
) -> None:
    data = _old()
    change = _role_assignment(data)
    damage(change["params"])
    with pytest.raises(ConfigError) as refused:
        read_plan(_write(tmp_path, data))
    message = str(refused.value)
    assert str(tmp_path / "old.plan") in message
    assert change["address"] in message and says in message
    assert "acr-reconcile 0.1.0" in message and "plan again" in message


def test_a_prune_has_no_role_definition_id_and_round_trips() -> None:
    docs = documents(WALKTHROUGH.replace("signers:", "roleAssignments: {prune: true}\nsigners:"))
    live = synced_live(docs)
    key, data = next(iter(live.registries.items()))
    assert data is not None
    held = data.role_assignments[0]
    stranger = replace(
        held, id=f"{held.scope}/x/{PRUNED}", name=PRUNED, principal_id="cccccccc-0000-0000-0000-3"
    )
    live.registries[key] = replace(data, role_assignments=(*data.role_assignments, stranger))
    (prune,) = [c for c in plan(docs, live, LEGACY).pending if c.kind is Kind.ROLE_ASSIGNMENT]
    params = prune.params_as(RoleAssignmentParams)
    assert params.role_definition_id is None and params.name == PRUNED
    encoded = params_to_dict(params)
    assert "role_definition_id" not in encoded  # the documented shape: creates only
    assert params_from_dict(Kind.ROLE_ASSIGNMENT, encoded, prune.address) == params


def test_the_documented_schema_names_each_kinds_parameters() -> None:
    import dataclasses

    import jsonschema

    schema_path = Path(__file__).parents[3] / "docs" / "plan-json.schema.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    for kind, params_type in PARAMS_TYPES.items():
        documented = schema["$defs"][f"params-{kind.value}"]
        fields = dataclasses.fields(params_type)
        assert set(documented["properties"]) == {f.name for f in fields}, kind
        required = {f.name for f in fields if f.default is dataclasses.MISSING}
        assert set(documented["required"]) == required, kind
    old = _old()["plan"]
    jsonschema.validate(old, schema)
    _role_assignment({"plan": old})["params"]["principal_id"] = 7
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(old, schema)
