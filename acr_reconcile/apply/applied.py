"""After a target's changes all succeeded, record on its registry which spec was applied.

The planner tells drift (live moved away from what was applied) from a changed spec by
the registry tag ``acr-reconcile.applied``. It is written here and only here, once per
target, after every change of that target succeeded: the registry handler leaves it as it
was, so a failed or interrupted apply (an import that failed in a new registry) is never
recorded as applied, and the next plan reports its pending changes as what they are, not
as drift.
"""

from __future__ import annotations

from collections import defaultdict

from acr_reconcile.apply import retry
from acr_reconcile.apply.context import ApplyContext
from acr_reconcile.apply.executor import ApplyResult, Status
from acr_reconcile.apply.handlers.common import registry_coordinates
from acr_reconcile.plan.model import Change, Kind, Plan, RegistryParams


def _completed_targets(plan: Plan, result: ApplyResult) -> set[str]:
    """Targets whose pending changes all succeeded, those with none pending included: a
    run killed after its last change but before this record leaves a registry in sync and
    unrecorded, and the rerun (nothing to change) must still record it."""
    pending: dict[str, list[Change]] = defaultdict(list)
    for change in plan.changes:
        pending.setdefault(change.target, [])
        if change.is_change:
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
    """Write the applied tag of every target whose changes all succeeded."""
    done = _completed_targets(plan, result)
    return [
        f"{change.address}: {_refresh(change, ctx)}"
        for change in plan.changes
        if _records(change) and change.target in done
    ]


def _records(change: Change) -> bool:
    return change.kind is Kind.REGISTRY and bool(change.params_as(RegistryParams).tags)
