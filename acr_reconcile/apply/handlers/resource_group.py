"""Resource group: a synchronous, idempotent PUT of location and tags."""

from __future__ import annotations

from collections.abc import Sequence

from acr_reconcile.apply import retry
from acr_reconcile.apply.context import ApplyContext
from acr_reconcile.apply.handlers.common import id_part, or_none, param
from acr_reconcile.plan.model import Change


def apply(changes: Sequence[Change], ctx: ApplyContext) -> str:
    change = changes[0]
    sub = str(param(change, "subscription_id") or id_part(change.resource_id, "subscriptions"))
    name = str(param(change, "resource_group") or id_part(change.resource_id, "resourceGroups"))
    location, tags = str(param(change, "location")), dict(param(change, "tags", {}) or {})
    groups = ctx.session.resources(sub).resource_groups

    def put() -> str:
        live = or_none(lambda: groups.get(name))
        if live is not None and dict(live.tags or {}) == tags:
            return "already as planned"
        groups.create_or_update(name, {"location": location, "tags": tags})
        return "updated" if live is not None else "created"

    return retry.call(put, change.resource_id, "writing the resource group", ctx.retry)
