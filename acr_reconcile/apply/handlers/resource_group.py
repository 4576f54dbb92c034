"""Resource group: a synchronous, idempotent PUT of location and tags."""

from __future__ import annotations

from collections.abc import Sequence

from acr_reconcile.apply import retry
from acr_reconcile.apply.context import ApplyContext
from acr_reconcile.apply.handlers.common import or_none
from acr_reconcile.plan.model import Change, ResourceGroupParams


def apply(changes: Sequence[Change], ctx: ApplyContext) -> str:
    change = changes[0]
    params = change.params_as(ResourceGroupParams)
    name, location, tags = params.resource_group, params.location, dict(params.tags)
    groups = ctx.session.resources(params.subscription_id).resource_groups

    def put() -> str:
        live = or_none(lambda: groups.get(name))
        if live is not None and dict(live.tags or {}) == tags:
            return "already as planned"
        groups.create_or_update(name, {"location": location, "tags": tags})
        return "updated" if live is not None else "created"

    return retry.call(put, change.resource_id, "writing the resource group", ctx.retry)
