"""The Plan value as plain JSON data and back: one encoding for ``--output json`` and plan files.

Keys are snake_case like Terraform's JSON output; the shape is documented in
docs/plan-json.md and docs/plan-json.schema.json. Decoding is strict (a missing key or an
unknown enum value raises ValueError) because a saved plan drives writes to Azure.

A change's ``params`` object holds exactly the fields of its kind's parameter type, under
the same names; a field with a default is written only when it differs from it (a prune
has no ``role_definition_id``), which keeps the documented shape of every earlier plan.
Decoding checks every key and value type, so a plan file whose parameters this version
does not read is refused naming the change and the key, never acted on by guesswork.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from acr_reconcile.errors import Diagnostic
from acr_reconcile.plan.folding import folded_addresses, shown_counts
from acr_reconcile.plan.model import (
    PARAMS_TYPES,
    Action,
    AttributeChange,
    Change,
    ChangeParams,
    Kind,
    Plan,
    Reason,
    TargetSummary,
)


class ParamsError(ValueError):
    """A change's parameters are not what its kind takes (a foreign or older plan)."""


def counts(plan: Plan) -> dict[str, int]:
    """Terraform-style add / change / destroy counts, as the text plan counts them (a new
    registry's trust policy is part of the registry: plan/folding.py), and ``folded``:
    the pending changes of ``changes[]`` those counts leave out."""
    skip = folded_addresses(plan.changes)
    return {**shown_counts(plan), "folded": sum(1 for c in plan.pending if c.address in skip)}


def params_to_dict(params: ChangeParams) -> dict[str, Any]:
    """The ``params`` object of one change (a fresh copy: callers may keep it)."""
    data: dict[str, Any] = {}
    for spec in dataclasses.fields(params):
        value = getattr(params, spec.name)
        if spec.default is not dataclasses.MISSING and value == spec.default:
            continue
        data[spec.name] = dict(value) if isinstance(value, dict) else value
    return data


# field name -> type of each parameter type, resolved once (the model uses string annotations)
_FIELD_TYPES = {kind: typing.get_type_hints(kind) for kind in PARAMS_TYPES.values()}


def _accepts(hint: Any, value: Any) -> bool:
    """Whether a JSON value fits a parameter type (str, bool, int, dict[str, str], X | None)."""
    if isinstance(hint, types.UnionType):
        return any(_accepts(option, value) for option in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if typing.get_origin(hint) is dict:
        return isinstance(value, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        )
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return type(value) is hint


def params_from_dict(kind: Kind, data: Any, address: str) -> ChangeParams:
    """The typed parameters of a ``kind`` change; ParamsError names what does not fit."""
    params_type = PARAMS_TYPES[kind]
    if not isinstance(data, dict):
        raise ParamsError(f"change {address}: params is not an object")
    hints = _FIELD_TYPES[params_type]
    unknown = sorted(set(data) - set(hints))
    if unknown:
        raise ParamsError(f"change {address}: unknown {kind.value} parameter {unknown[0]!r}")
    values: dict[str, Any] = {}
    for spec in dataclasses.fields(params_type):
        if spec.name not in data:
            if spec.default is dataclasses.MISSING:
                raise ParamsError(f"change {address}: {kind.value} parameter {spec.name!r} missing")
            continue
        value = data[spec.name]
        if not _accepts(hints[spec.name], value):
            raise ParamsError(
                f"change {address}: {kind.value} parameter {spec.name!r} has the wrong type"
            )
        values[spec.name] = dict(value) if isinstance(value, dict) else value
    return params_type(**values)


def _change(change: Change) -> dict[str, Any]:
    return {
        "address": change.address,
        "kind": change.kind.value,
        "action": change.action.value,
        "reason": change.reason.value,
        "resource_id": change.resource_id,
        "summary": change.summary,
        "target": change.target,
        "before": change.before,
        "after": change.after,
        "diff": [{"path": d.path, "before": d.before, "after": d.after} for d in change.diff],
        "depends_on": list(change.depends_on),
        "spec_location": change.spec_location,
        "params": params_to_dict(change.params),
    }


def _diagnostic(diagnostic: Diagnostic) -> dict[str, Any]:
    return {
        "severity": diagnostic.severity,
        "resource": diagnostic.resource,
        "message": diagnostic.message,
        "location": diagnostic.location,
        "details": dict(diagnostic.details),
    }


def _target(target: TargetSummary) -> dict[str, Any]:
    return {
        "subscription_id": target.subscription_id,
        "resource_group": target.resource_group,
        "registry": target.registry,
        "source": target.source,
        "status": target.status,
        "changes": target.changes,
    }


def plan_to_dict(plan: Plan, *, observed: bool = False) -> dict[str, Any]:
    """The documented JSON document; ``observed`` adds the live properties (plan files)."""
    data: dict[str, Any] = {
        "format_version": plan.format_version,
        "summary": {
            **counts(plan),
            "errors": len(plan.errors),
            "warnings": sum(1 for d in plan.diagnostics if d.severity == "warning"),
            "has_changes": plan.has_changes,
            "drift": any(c.reason is Reason.DRIFT for c in plan.pending),
            "destroys_trust": plan.destroys_trust,
        },
        "changes": [_change(c) for c in plan.changes],
        "diagnostics": [_diagnostic(d) for d in plan.diagnostics],
        "targets": [_target(t) for t in plan.targets],
        "fingerprints": dict(plan.fingerprints),
    }
    if observed:
        data["observed"] = plan.observed
    return data


def _change_from(data: dict[str, Any]) -> Change:
    address, kind = str(data["address"]), Kind(data["kind"])
    return Change(
        address=address,
        kind=kind,
        action=Action(data["action"]),
        reason=Reason(data["reason"]),
        resource_id=str(data["resource_id"]),
        summary=str(data["summary"]),
        before=data["before"],
        after=data["after"],
        diff=tuple(AttributeChange(d["path"], d["before"], d["after"]) for d in data["diff"]),
        depends_on=tuple(str(d) for d in data["depends_on"]),
        spec_location=data["spec_location"],
        params=params_from_dict(kind, data["params"], address),
        target=str(data.get("target", "")),
    )


def _diagnostic_from(data: dict[str, Any]) -> Diagnostic:
    details = {str(k): str(v) for k, v in data.get("details", {}).items()}
    return Diagnostic(
        str(data["severity"]),
        str(data["resource"]),
        str(data["message"]),
        data["location"],
        details,
    )


def plan_from_dict(data: dict[str, Any]) -> Plan:
    """Rebuild a Plan; raises ValueError/KeyError/TypeError on anything malformed."""
    if not isinstance(data, dict):
        raise TypeError("a plan is a JSON object")
    targets = tuple(TargetSummary(**t) for t in data["targets"])
    return Plan(
        changes=tuple(_change_from(c) for c in data["changes"]),
        diagnostics=tuple(_diagnostic_from(d) for d in data["diagnostics"]),
        targets=targets,
        fingerprints={str(k): str(v) for k, v in data["fingerprints"].items()},
        format_version=str(data["format_version"]),
        destroys_trust=bool(data["summary"]["destroys_trust"]),
        observed=dict(data.get("observed", {})),
    )
