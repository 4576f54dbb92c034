"""The sandbox's admin API under ``/_sandbox``: health, status, fault rules, request log,
settings, principals and reset. Every call but ``health`` needs the admin token (a random
value in the state dir), never an Entra token, so tests can steer the sandbox without
being a tenant identity.
"""

from __future__ import annotations

import hmac
from typing import Any

from aiohttp import web

from acr_sandbox.arm.errors import json_response
from acr_sandbox.context import Sandbox, ctx
from acr_sandbox.directory import registry_record
from acr_sandbox.faults import FaultRuleError
from acr_sandbox.keyvault.plane import plane_of
from acr_sandbox.settings import SettingsError, apply_changes


def _authorised(request: web.Request) -> Sandbox:
    sandbox = ctx(request)
    header = request.headers.get("Authorization", "")
    token = header.removeprefix("Bearer ").strip()
    if not token or not hmac.compare_digest(token, sandbox.admin_token):
        raise web.HTTPUnauthorized(
            text='{"error":"the sandbox admin token is required"}',
            content_type="application/json",
        )
    return sandbox


async def _json(request: web.Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise _bad("the body must be JSON") from None


def _bad(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=f'{{"error":"{message}"}}', content_type="application/json")


async def health(request: web.Request) -> web.Response:
    return json_response({"status": "ok", "tenantId": ctx(request).tenant_id})


def parts(sandbox: Sandbox) -> list[dict[str, Any]]:
    base = sandbox.base_url
    own = [
        {"name": "arm", "healthy": True, "detail": f"{base}/subscriptions"},
        {"name": "entra", "healthy": True, "detail": f"{base}/{sandbox.tenant_id}/v2.0"},
        {"name": "graph", "healthy": True, "detail": f"{base}/v1.0"},
        {"name": "metadata", "healthy": True, "detail": f"{base}/metadata/endpoints"},
        plane_of(sandbox).status(),
    ]
    try:
        data_parts = sandbox.dataplane.status()
    except Exception as error:  # a broken data plane must still show up as unhealthy
        return [*own, {"name": "data plane", "healthy": False, "detail": str(error)}]
    return own + [{"name": p.name, "healthy": p.healthy, "detail": p.detail} for p in data_parts]


async def status(request: web.Request) -> web.Response:
    sandbox = _authorised(request)
    found = parts(sandbox)
    return json_response(
        {
            "healthy": all(p["healthy"] for p in found),
            "url": sandbox.base_url,
            "dct": sandbox.settings["dct"],
            "parts": found,
        }
    )


async def get_faults(request: web.Request) -> web.Response:
    sandbox = _authorised(request)
    return json_response({"rules": [r.describe() for r in sandbox.faults.rules]})


async def set_faults(request: web.Request) -> web.Response:
    sandbox = _authorised(request)
    body = await _json(request)
    rules = body.get("rules") if isinstance(body, dict) else body
    try:
        sandbox.faults.set_rules(rules)
    except FaultRuleError as error:
        raise _bad(str(error)) from None
    return json_response({"rules": [r.describe() for r in sandbox.faults.rules]})


async def clear_faults(request: web.Request) -> web.Response:
    _authorised(request).faults.rules = []
    return json_response({"rules": []})


async def get_requests(request: web.Request) -> web.Response:
    """Control plane entries; ``?plane=all`` adds the loginServers' (``plane: data``)."""
    sandbox = _authorised(request)
    entries = list(sandbox.requests.entries)
    if request.query.get("plane") != "all":
        entries = [e for e in entries if e.get("plane") != "data"]
    return json_response({"requests": entries})


async def clear_requests(request: web.Request) -> web.Response:
    _authorised(request).requests.clear()
    return json_response({"requests": []})


async def get_settings(request: web.Request) -> web.Response:
    return json_response(_authorised(request).settings)


async def set_settings(request: web.Request) -> web.Response:
    sandbox = _authorised(request)
    body = await _json(request)
    if not isinstance(body, dict):
        raise _bad("settings must be a JSON object")
    try:
        apply_changes(sandbox.settings, body)
    except SettingsError as error:
        raise _bad(str(error)) from None
    sandbox.throttle.reset()
    plane_of(sandbox).limits.reset()
    sandbox.store.changed()
    return json_response(sandbox.settings)


async def add_principal(request: web.Request) -> web.Response:
    sandbox = _authorised(request)
    body = await _json(request)
    name = body.get("displayName") if isinstance(body, dict) else None
    kind = body.get("type", "ServicePrincipal") if isinstance(body, dict) else None
    if not isinstance(name, str) or not name or kind not in ("ServicePrincipal", "User", "Group"):
        raise _bad("displayName (string) and type ServicePrincipal|User|Group are required")
    record, secret = sandbox.store.add_principal(
        name, principal_type=kind, with_secret=kind == "ServicePrincipal"
    )
    return json_response(
        {"objectId": record["id"], "appId": record["appId"], "type": kind, "secret": secret},
        status=201,
    )


async def add_subscription(request: web.Request) -> web.Response:
    """Another subscription (for fleets spanning subscriptions); the seeded owner owns it."""
    import uuid

    from acr_sandbox.state import grant_owner

    sandbox = _authorised(request)
    body = await _json(request)
    raw = body.get("subscriptionId") if isinstance(body, dict) else None
    try:
        subscription_id = str(uuid.UUID(str(raw))) if raw else str(uuid.uuid4())
    except ValueError:
        raise _bad("subscriptionId must be a GUID") from None
    name = body.get("displayName") if isinstance(body, dict) else None
    subscriptions = sandbox.store.section("subscriptions")
    if subscription_id not in subscriptions:
        subscriptions[subscription_id] = {"displayName": str(name or subscription_id)}
        grant_owner(sandbox.store, subscription_id)
    return json_response({"subscriptionId": subscription_id}, status=201)


async def add_federated_credential(request: web.Request) -> web.Response:
    sandbox = _authorised(request)
    record = sandbox.store.section("principals").get(request.match_info["object_id"].lower())
    if record is None or record.get("type") != "ServicePrincipal":
        raise web.HTTPNotFound(text='{"error":"no such service principal"}')
    body = await _json(request)
    needed = ("issuer", "subject", "publicKeyPem")
    if not isinstance(body, dict) or not all(isinstance(body.get(k), str) for k in needed):
        raise _bad("issuer, subject and publicKeyPem (strings) are required")
    credential = {k: body[k] for k in needed}
    credential["audiences"] = list(body.get("audiences") or ["api://AzureADTokenExchange"])
    record["federatedCredentials"].append(credential)
    sandbox.store.changed()
    return json_response({"issuer": body["issuer"], "subject": body["subject"]}, status=201)


async def reset(request: web.Request) -> web.Response:
    """Wipe resource groups, registries and role assignments (principals stay)."""
    sandbox = _authorised(request)
    for entry in list(sandbox.store.section("registries").values()):
        try:
            await sandbox.dataplane.registry_deleted(registry_record(entry["body"]))
        except Exception:  # a reset must not stop half-way
            continue
    sandbox.store.clear_resources()
    keyvault = plane_of(sandbox)
    keyvault.prune()
    keyvault.limits.reset()
    sandbox.operations.clear()
    sandbox.throttle.reset()
    sandbox.faults.rules = []
    return json_response({"reset": True})


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/_sandbox/health", health)
    r.add_get("/_sandbox/status", status)
    r.add_get("/_sandbox/faults", get_faults)
    r.add_post("/_sandbox/faults", set_faults)
    r.add_delete("/_sandbox/faults", clear_faults)
    r.add_get("/_sandbox/requests", get_requests)
    r.add_post("/_sandbox/requests/clear", clear_requests)
    r.add_get("/_sandbox/settings", get_settings)
    r.add_post("/_sandbox/settings", set_settings)
    r.add_post("/_sandbox/principals", add_principal)
    r.add_post("/_sandbox/subscriptions", add_subscription)
    r.add_post("/_sandbox/principals/{object_id}/federatedCredentials", add_federated_credential)
    r.add_post("/_sandbox/reset", reset)
