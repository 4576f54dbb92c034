"""Registry: create (PUT, long-running) or update SKU, admin user and tags (PATCH, LRO).

Neither writes the new ``acr-reconcile.applied`` value: a create leaves it out and an
update keeps the value the registry had. The tag says "this spec was applied", which is
true only once every change of the target succeeded, so ``apply/applied.py`` writes it
then; written here, a failed import after a registry create made the next plan call every
pending change drift.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from acr_reconcile.apply import retry
from acr_reconcile.apply.context import ApplyContext
from acr_reconcile.apply.handlers.common import or_none, registry_coordinates
from acr_reconcile.live.state import APPLIED_TAG
from acr_reconcile.plan.model import Change, RegistryParams


def _tags_for(params: RegistryParams, live: Any | None) -> dict[str, str]:
    """The planned tags with the live registry's applied tag (if any) in place of the new."""
    tags = {k: v for k, v in params.tags.items() if k != APPLIED_TAG}
    previous = (live.as_dict().get("tags") or {}).get(APPLIED_TAG) if live is not None else None
    if previous is not None:
        tags[APPLIED_TAG] = str(previous)
    return tags


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
    registries = ctx.session.registries(sub).registries

    def write() -> str:
        live = or_none(lambda: registries.get(group, name))
        tags = _tags_for(params, live)
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
