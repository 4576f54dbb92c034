"""After a target's changes all succeeded, record on its registry which spec was applied.

The planner tells drift (live moved away from what was applied) from a changed spec by
the registry tag ``acr-reconcile.applied``. A registry create or update writes it; when a
run changed only other things (a role assignment, a signature) the registry itself is a
no-op, so the tag is refreshed here, once per target, and only when every change of that
target succeeded, so a half-applied spec is never recorded as applied.
"""

from __future__ import annotations

from collections import defaultdict

from acr_reconcile.apply import retry
from acr_reconcile.apply.context import ApplyContext
from acr_reconcile.apply.executor import ApplyResult, Status
from acr_reconcile.apply.handlers.common import registry_coordinates
from acr_reconcile.plan.model import Action, Change, Kind, Plan, RegistryParams


def _completed_targets(plan: Plan, result: ApplyResult) -> set[str]:
    pending: dict[str, list[Change]] = defaultdict(list)
    for change in plan.pending:
        pending[change.target].append(change)
    return {
        target
        for target, changes in pending.items()
        if all(result.status_of(c.address) is Status.DONE for c in changes)
    }


def _refresh(change: Change, ctx: ApplyContext) -> str:
    from azure.mgmt.containerregistry.models import RegistryUpdateParameters

    params = change.params_as(RegistryParams)
    sub, group, name = registry_coordinates(params)
    tags = dict(params.tags)
    registries = ctx.session.registries(sub).registries

    def write() -> str:
        live = registries.get(group, name)
        if dict(live.as_dict().get("tags") or {}) == tags:
            return "already recorded"
        registries.begin_update(group, name, RegistryUpdateParameters(tags=tags)).result()
        return "recorded"

    return retry.call(write, change.resource_id, "recording the applied spec", ctx.retry)


def record_applied(plan: Plan, result: ApplyResult, ctx: ApplyContext) -> list[str]:
    """Refresh the applied tag of every fully applied target whose registry was a no-op."""
    done = _completed_targets(plan, result)
    return [
        f"{change.address}: {_refresh(change, ctx)}"
        for change in plan.changes
        if _unchanged_registry(change) and change.target in done
    ]


def _unchanged_registry(change: Change) -> bool:
    return (
        change.kind is Kind.REGISTRY
        and change.action is Action.NOOP
        and bool(change.params_as(RegistryParams).tags)
    )
