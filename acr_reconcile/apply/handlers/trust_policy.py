"""Trust policy: PATCH the registry's policies, all of them, with trust set as planned.

Like ``az acr config content-trust update``, the PATCH carries every current policy so
that nothing else the registry has configured is reset by omission. A migration's disable
runs only once this run wrote the DCT inventory and verified every carried signature
(``apply/migration.py``), whatever order it was started in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from acr_reconcile.apply import retry
from acr_reconcile.apply.context import ApplyContext
from acr_reconcile.apply.handlers.common import registry_coordinates
from acr_reconcile.errors import ConfigError
from acr_reconcile.plan.model import Change, TrustPolicyParams

_READ_ONLY = ("lastUpdatedTime",)


def _policies_with(live: Any, status: str) -> dict[str, Any]:
    current = ((live.as_dict().get("properties") or {}).get("policies")) or {}
    policies = {
        name: {k: v for k, v in value.items() if k not in _READ_ONLY}
        for name, value in current.items()
        if isinstance(value, dict)
    }
    policies["trustPolicy"] = {**policies.get("trustPolicy", {}), "type": "Notary"}
    policies["trustPolicy"]["status"] = status
    return policies


def apply(changes: Sequence[Change], ctx: ApplyContext) -> str:
    from azure.mgmt.containerregistry.models import (
        Policies,
        RegistryPropertiesUpdateParameters,
        RegistryUpdateParameters,
    )

    change = changes[0]
    params = change.params_as(TrustPolicyParams)
    sub, group, name = registry_coordinates(params)
    status = params.status
    if params.migration and status == "disabled":
        refusal = ctx.migration.refusal(params.subscription_id, params.registry)
        if refusal is not None:  # before any read: the ledger alone decides
            raise ConfigError(
                f"{change.resource_id}: content trust stays enabled: {refusal}, and "
                "disabling it deletes every DCT signature for good"
            )
    registries = ctx.session.registries(sub).registries

    def write() -> str:
        live = registries.get(group, name)
        trust = ((live.as_dict().get("properties") or {}).get("policies") or {}).get(
            "trustPolicy"
        ) or {}
        if str(trust.get("status", "disabled")).lower() == status:
            return f"trust already {status}"
        if status == "disabled" and not ctx.allow_destroy_trust:
            raise ConfigError(
                f"{change.resource_id}: disabling content trust deletes every signature for "
                "good; pass --allow-destroy-trust to do it"
            )
        policies = Policies(_policies_with(live, status))
        update = RegistryUpdateParameters(
            properties=RegistryPropertiesUpdateParameters(policies=policies)
        )
        registries.begin_update(group, name, update).result()
        return f"trust {status}"

    return retry.call(write, change.resource_id, "writing the trust policy", ctx.retry)
