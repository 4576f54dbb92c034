"""Container registries: GET, PUT/PATCH (long-running, status monitor), DELETE
(long-running, Location), lists (paged), global name check, importImage.

The data plane serves a registry once it is created (its loginServer comes from there)
and drops its content when it is deleted; the control plane owns the ARM document.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
from typing import Any

from aiohttp import web

from acr_sandbox.arm import lro, registrybody, resourcegroups, resources, trustrules
from acr_sandbox.arm.assignments import delete_beneath
from acr_sandbox.arm.errors import ArmError, json_response, not_found, read_json
from acr_sandbox.arm.router import REGISTRY, RG, SUB, ArmRouter
from acr_sandbox.arm.subscriptions import require_subscription
from acr_sandbox.context import Sandbox, ctx
from acr_sandbox.directory import CLAIMS_KEY, registry_record

KIND = "Microsoft.ContainerRegistry/registries"
PROVIDER = "/providers/Microsoft.ContainerRegistry/registries/"
CREATE_WAIT_SECONDS = 2.0
log = logging.getLogger(__name__)


def registry_id(sub: str, rg: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}{PROVIDER}{name}"


def entries(sandbox: Sandbox) -> dict[str, dict[str, Any]]:
    return sandbox.store.section("registries")


def find(sandbox: Sandbox, sub: str, rg: str, name: str) -> dict[str, Any] | None:
    return entries(sandbox).get(registry_id(sub, rg, name).lower())


def require(sandbox: Sandbox, params: dict[str, str]) -> dict[str, Any]:
    sub = require_subscription(sandbox, params["sub"])
    group = resourcegroups.require(sandbox, sub, params["rg"])
    entry = find(sandbox, sub, group["name"], params["name"])
    if entry is None:
        raise not_found(KIND, params["name"], params["rg"])
    return entry


def name_taken(sandbox: Sandbox, name: str) -> bool:
    wanted = name.lower()
    return any(e["body"]["name"].lower() == wanted for e in entries(sandbox).values())


def _caller(request: web.Request) -> str:
    claims = request.get(CLAIMS_KEY) or {}
    return str(claims.get("appid") or claims.get("oid") or "unknown")


async def get(request: web.Request, params: dict[str, str]) -> web.Response:
    return json_response(require(ctx(request), params)["body"])


async def put(request: web.Request, params: dict[str, str]) -> web.Response:
    sandbox = ctx(request)
    sub = require_subscription(sandbox, params["sub"])
    group = resourcegroups.require(sandbox, sub, params["rg"])
    name = params["name"]
    registrybody.check_name(name)
    request_body = await read_json(request)
    entry = find(sandbox, sub, group["name"], name)
    if entry is None:
        if name_taken(sandbox, name):
            raise ArmError(409, "AlreadyInUse", f"The registry {name} is already in use.")
        return await _create(sandbox, request, sub, group["name"], name, request_body)
    after = registrybody.replaced_body(entry["body"], request_body, _caller(request))
    return _update(sandbox, request, entry, after)


async def patch(request: web.Request, params: dict[str, str]) -> web.Response:
    sandbox = ctx(request)
    entry = require(sandbox, params)
    request_body = await read_json(request)
    after = registrybody.updated_body(entry["body"], request_body, _caller(request))
    return _update(sandbox, request, entry, after)


def _check_trust(
    sandbox: Sandbox, name: str, before: dict[str, Any] | None, after: dict[str, Any]
) -> None:
    trustrules.check(
        name,
        registrybody.trust_view(before) if before else None,
        registrybody.trust_view(after),
        mode=str(sandbox.settings["dct"]),
    )


async def _create(
    sandbox: Sandbox, request: web.Request, sub: str, rg: str, name: str, raw: dict[str, Any]
) -> web.Response:
    rid = registry_id(sub, rg, name)
    body = registrybody.new_body(rid, name, raw, _caller(request))
    _check_trust(sandbox, name, None, body)
    entry = {"body": body}
    entries(sandbox)[rid.lower()] = entry
    sandbox.store.changed()

    def on_terminal(status: str, error: dict[str, str] | None) -> None:
        entry["body"]["properties"]["provisioningState"] = status
        sandbox.store.changed()

    operation = lro.start(sandbox, request, kind="registries", on_terminal=on_terminal)
    task = asyncio.get_running_loop().create_task(_serve(sandbox, entry, operation))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(task), CREATE_WAIT_SECONDS)
    if body["sku"]["name"] == "Premium" and lro.settled(operation) == "Succeeded":
        # Azure answers a Premium create that completes at once with 200 and the finished
        # registry, without a status monitor (recorded with az 2.90, api 2026-09-01-preview).
        return json_response(copy.deepcopy(entry["body"]), status=200)
    answer = copy.deepcopy(entry["body"])
    answer["properties"]["provisioningState"] = "Creating"  # the answer precedes the outcome
    return _accepted(sandbox, request, answer, operation, 201)


async def _serve(sandbox: Sandbox, entry: dict[str, Any], operation: lro.Operation) -> None:
    try:
        login_server = await sandbox.dataplane.registry_created(registry_record(entry["body"]))
    except Exception as error:  # the data plane's failure becomes the operation's error
        log.exception("data plane could not serve %s", entry["body"]["name"])
        lro.finish(sandbox, operation, {"code": "InternalServerError", "message": str(error)})
        return
    entry["body"]["properties"]["loginServer"] = login_server
    sandbox.store.changed()
    lro.finish(sandbox, operation)


def _update(
    sandbox: Sandbox, request: web.Request, entry: dict[str, Any], after: dict[str, Any]
) -> web.Response:
    before = entry["body"]
    _check_trust(sandbox, before["name"], before, after)
    after["properties"]["provisioningState"] = "Updating"
    before["properties"]["provisioningState"] = "Updating"

    def on_terminal(status: str, error: dict[str, str] | None) -> None:
        if status == "Succeeded":
            entry["body"] = after
        entry["body"]["properties"]["provisioningState"] = status
        sandbox.store.changed()

    operation = lro.start(sandbox, request, kind="registries", on_terminal=on_terminal)
    lro.finish(sandbox, operation)
    return _accepted(sandbox, request, copy.deepcopy(after), operation, 200)


def _accepted(
    sandbox: Sandbox,
    request: web.Request,
    body: dict[str, Any],
    operation: lro.Operation,
    status: int,
) -> web.Response:
    headers = {
        "Azure-AsyncOperation": lro.status_url(sandbox, body["id"], operation, request),
        "Retry-After": str(int(sandbox.settings["lroRetryAfter"])),
    }
    return json_response(body, status=status, headers=headers)


async def delete(request: web.Request, params: dict[str, str]) -> web.Response:
    sandbox = ctx(request)
    sub = require_subscription(sandbox, params["sub"])
    resourcegroups.require(sandbox, sub, params["rg"])
    entry = find(sandbox, sub, params["rg"], params["name"])
    if entry is None:
        return web.Response(status=204)
    operation = lro.start(sandbox, request, kind="registries")
    entry["body"]["properties"]["provisioningState"] = "Deleting"
    asyncio.get_running_loop().create_task(_remove(sandbox, entry, operation))
    headers = {
        "Location": lro.result_url(sandbox, entry["body"]["id"], operation, request),
        "Retry-After": str(int(sandbox.settings["lroRetryAfter"])),
    }
    return web.Response(status=202, headers=headers)


async def _remove(sandbox: Sandbox, entry: dict[str, Any], operation: lro.Operation) -> None:
    rid = str(entry["body"]["id"])
    try:
        await sandbox.dataplane.registry_deleted(registry_record(entry["body"]))
    except Exception:  # the registry goes from ARM even if its content lingers
        log.exception("data plane could not drop %s", rid)
    entries(sandbox).pop(rid.lower(), None)
    delete_beneath(sandbox, rid)
    sandbox.store.changed()
    lro.finish(sandbox, operation)


async def delete_all_in(sandbox: Sandbox, scope: str) -> None:
    """Remove every registry beneath ``scope`` (a resource group being deleted)."""
    prefix = scope.lower() + "/"
    for key in [k for k in entries(sandbox) if k.startswith(prefix)]:
        entry = entries(sandbox)[key]
        with contextlib.suppress(Exception):
            await sandbox.dataplane.registry_deleted(registry_record(entry["body"]))
        entries(sandbox).pop(key, None)


def _page(request: web.Request, sandbox: Sandbox, items: list[dict[str, Any]]) -> web.Response:
    size = max(1, int(sandbox.settings["pageSize"]))
    try:
        offset = max(0, int(request.query.get("$skipToken", "0")))
    except ValueError:
        raise ArmError(400, "InvalidSkipToken", "The $skipToken is not valid.") from None
    body: dict[str, Any] = {"value": [e["body"] for e in items[offset : offset + size]]}
    if offset + size < len(items):
        api = request.query.get("api-version", "")
        body["nextLink"] = (
            f"{sandbox.base_url}{request.path}?api-version={api}&$skipToken={offset + size}"
        )
    return json_response(body)


async def list_in_group(request: web.Request, params: dict[str, str]) -> web.Response:
    sandbox = ctx(request)
    sub = require_subscription(sandbox, params["sub"])
    group = resourcegroups.require(sandbox, sub, params["rg"])
    prefix = f"{group['id']}/providers/".lower()
    items = [e for k, e in entries(sandbox).items() if k.startswith(prefix)]
    return _page(request, sandbox, items)


async def list_in_subscription(request: web.Request, params: dict[str, str]) -> web.Response:
    sandbox = ctx(request)
    sub = require_subscription(sandbox, params["sub"])
    prefix = f"/subscriptions/{sub}/".lower()
    items = [e for k, e in entries(sandbox).items() if k.startswith(prefix)]
    return _page(request, sandbox, items)


async def check_name(request: web.Request, params: dict[str, str]) -> web.Response:
    sandbox = ctx(request)
    require_subscription(sandbox, params["sub"])
    body = await read_json(request)
    name, kind = body.get("name"), body.get("type")
    if not isinstance(name, str) or kind != KIND:
        raise ArmError(
            400,
            "InvalidRequestContent",
            f"The request must name the registry ('name') and the type '{KIND}' ('type').",
        )
    if not registrybody.NAME.match(name):
        return json_response(
            {
                "nameAvailable": False,
                "reason": "Invalid",
                "message": "The specified registry name is disallowed",
            }
        )
    if name_taken(sandbox, name):
        return json_response(
            {
                "nameAvailable": False,
                "reason": "AlreadyExists",
                "message": f"The registry {name} is already in use.",
            }
        )
    return json_response({"nameAvailable": True})


def _listed(sandbox: Sandbox) -> list[dict[str, Any]]:
    return [e["body"] for e in entries(sandbox).values()]


def register(router: ArmRouter) -> None:
    resources.register_type(KIND, _listed)
    resourcegroups.holds(KIND, delete_all_in)

    provider = r"/providers/Microsoft\.ContainerRegistry"
    router.add("POST", SUB + provider + r"/checkNameAvailability", check_name)
    router.add("GET", SUB + provider + r"/registries", list_in_subscription)
    router.add("GET", RG + provider + r"/registries", list_in_group)
    router.add("GET", REGISTRY, get)
    router.add("PUT", REGISTRY, put)
    router.add("PATCH", REGISTRY, patch)
    router.add("DELETE", REGISTRY, delete)
    router.add("GET", REGISTRY + r"/operationStatuses/(?P<op>[^/]+)", lro.get_status)
    router.add("GET", REGISTRY + r"/operationResults/(?P<op>[^/]+)", lro.get_result)
