"""Key vault: created with RBAC authorization and soft delete, never changed once there.

The vault belongs to the tenant of the identity running apply (its token's ``tid``), as
``az keyvault create`` does it. An existing vault (a concurrent run, or a re-run after a
crash) is success: the planner reports every difference of an existing vault instead of
changing it, so the handler has nothing to reconcile on it.
"""

from __future__ import annotations

from collections.abc import Sequence

from acr_reconcile.apply import retry
from acr_reconcile.apply.context import ApplyContext
from acr_reconcile.apply.handlers.common import or_none
from acr_reconcile.azure.credentials import caller_tenant_id
from acr_reconcile.errors import ConfigError
from acr_reconcile.plan.model import Change, KeyVaultParams


def apply(changes: Sequence[Change], ctx: ApplyContext) -> str:
    change = changes[0]
    params = change.params_as(KeyVaultParams)
    vaults = ctx.session.keyvault(params.subscription_id).vaults
    tenant = caller_tenant_id(ctx.session.credential, ctx.session.cloud)
    if tenant is None:
        raise ConfigError(
            f"{change.resource_id}: the token of the identity running apply names no tenant "
            "(tid), which a new key vault must belong to"
        )
    body = {
        "location": params.location,
        "properties": {
            "tenantId": tenant,
            "sku": {"family": "A", "name": "standard"},
            "enableRbacAuthorization": params.rbac_authorization,
            "enableSoftDelete": True,
            "softDeleteRetentionInDays": params.soft_delete_retention_days,
        },
    }

    def put() -> str:
        if or_none(lambda: vaults.get(params.resource_group, params.vault)) is not None:
            return "already present"
        vaults.begin_create_or_update(params.resource_group, params.vault, body).result()
        return "created"

    return retry.call(put, change.resource_id, "creating the key vault", ctx.retry)
