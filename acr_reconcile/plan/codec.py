"""The Plan value as plain JSON data and back: one encoding for ``--output json`` and plan files.

Keys are snake_case like Terraform's JSON output; the shape is documented in
docs/plan-json.md and docs/plan-json.schema.json. Decoding is strict (a missing key or an
unknown enum value raises ValueError) because a saved plan drives writes to Azure.
"""

from __future__ import annotations

from typing import Any

from acr_reconcile.errors import Diagnostic
from acr_reconcile.plan.model import (
    Action,
    AttributeChange,
    Change,
    Kind,
    Plan,
    Reason,
    TargetSummary,
)


def counts(plan: Plan) -> dict[str, int]:
    """Terraform-style add / change / destroy counts of the pending changes."""
    actions = [c.action for c in plan.pending]
    return {
        "add": actions.count(Action.CREATE),
        "change": actions.count(Action.UPDATE),
        "destroy": actions.count(Action.DELETE),
    }


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
        "params": change.params,
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
    return Change(
        address=str(data["address"]),
        kind=Kind(data["kind"]),
        action=Action(data["action"]),
        reason=Reason(data["reason"]),
        resource_id=str(data["resource_id"]),
        summary=str(data["summary"]),
        before=data["before"],
        after=data["after"],
        diff=tuple(AttributeChange(d["path"], d["before"], d["after"]) for d in data["diff"]),
        depends_on=tuple(str(d) for d in data["depends_on"]),
        spec_location=data["spec_location"],
        params=dict(data["params"]),
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
