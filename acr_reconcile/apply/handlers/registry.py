"""Registry: create (PUT, long-running) or update SKU, admin user and tags (PATCH, LRO).

Both write the ``acr-reconcile.applied`` tag the planner computed, so the next plan can
tell drift (live moved away from what was applied) from a changed spec.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from acr_reconcile.apply import retry
from acr_reconcile.apply.context import ApplyContext
from acr_reconcile.apply.handlers.common import or_none, registry_coordinates
from acr_reconcile.plan.model import Change, RegistryParams


def _matches(live: Any, sku: str, admin: bool, tags: dict[str, str]) -> bool:
    raw = live.as_dict()
    props = raw.get("properties") or {}
    return (
        (raw.get("sku") or {}).get("name") == sku
        and bool(props.get("adminUserEnabled")) == admin
        and dict(raw.get("tags") or {}) == tags
        and props.get("provisioningState") in (None, "Succeeded")
    )


def apply(changes: Sequence[Change], ctx: ApplyContext) -> str:
    from azure.mgmt.containerregistry.models import (
        Registry,
        RegistryProperties,
        RegistryPropertiesUpdateParameters,
        RegistryUpdateParameters,
        Sku,
    )

    change = changes[0]
    params = change.params_as(RegistryParams)
    sub, group, name = registry_coordinates(params)
    location, sku, admin = params.location, params.sku, params.admin_user_enabled
    tags = dict(params.tags)
    registries = ctx.session.registries(sub).registries

    def write() -> str:
        live = or_none(lambda: registries.get(group, name))
        if live is None:
            body = Registry(
                location=location,
                sku=Sku(name=sku),
                tags=tags,
                properties=RegistryProperties(admin_user_enabled=admin),
            )
            registries.begin_create(group, name, body).result()
            return "created"
        if _matches(live, sku, admin, tags):
            return "already as planned"
        update = RegistryUpdateParameters(
            sku=Sku(name=sku),
            tags=tags,
            properties=RegistryPropertiesUpdateParameters(admin_user_enabled=admin),
        )
        registries.begin_update(group, name, update).result()
        return "updated"

    return retry.call(write, change.resource_id, "writing the registry", ctx.retry)
