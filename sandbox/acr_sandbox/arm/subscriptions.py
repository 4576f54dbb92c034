"""Subscriptions: get and list (``Microsoft.Resources`` subscriptions API)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from acr_sandbox.arm.errors import json_response, subscription_not_found
from acr_sandbox.arm.router import ArmRouter
from acr_sandbox.context import Sandbox, ctx


def representation(
    sandbox: Sandbox, subscription_id: str, record: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{subscription_id}",
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": subscription_id,
        "tenantId": sandbox.tenant_id,
        "displayName": record["displayName"],
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off",
        },
    }


def require_subscription(sandbox: Sandbox, subscription_id: str) -> str:
    """The canonical id of an existing subscription (ids compare case-insensitively)."""
    for known in sandbox.store.section("subscriptions"):
        if known.lower() == subscription_id.lower():
            return known
    raise subscription_not_found(subscription_id)


async def get_subscription(request: web.Request, params: dict[str, str]) -> web.Response:
    sandbox = ctx(request)
    sub = require_subscription(sandbox, params["sub"])
    record = sandbox.store.section("subscriptions")[sub]
    return json_response(representation(sandbox, sub, record))


async def list_subscriptions(request: web.Request, params: dict[str, str]) -> web.Response:
    """Only the subscriptions the caller holds a role in, as Azure lists them."""
    from acr_sandbox.directory import CLAIMS_KEY, role_guids

    sandbox = ctx(request)
    object_id = str((request.get(CLAIMS_KEY) or {}).get("oid", ""))
    items = [
        (sub, record)
        for sub, record in sandbox.store.section("subscriptions").items()
        if role_guids(sandbox, object_id, f"/subscriptions/{sub}")
        or any(
            str(a["properties"]["principalId"]).lower() == object_id.lower()
            and str(a["properties"]["scope"]).lower().startswith(f"/subscriptions/{sub}/")
            for a in sandbox.store.section("roleAssignments").values()
        )
    ]
    return json_response(
        {
            "value": [representation(sandbox, sub, rec) for sub, rec in items],
            "count": {"type": "Total", "value": len(items)},
        }
    )


def register(router: ArmRouter) -> None:
    router.add("GET", r"/subscriptions", list_subscriptions)
    router.add("GET", r"/subscriptions/(?P<sub>[^/]+)", get_subscription)
