"""Resource groups: HEAD/GET/PUT/PATCH/DELETE and list, with ARM's status codes.

PUT is synchronous (201 created, 200 updated; location immutable). DELETE is a
long-running operation (202 + Location) that removes what the group holds (each provider
registers how: registries, vaults) and the role assignments beneath it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from acr_sandbox.arm import lro
from acr_sandbox.arm.assignments import delete_beneath
from acr_sandbox.arm.errors import (
    ArmError,
    invalid_body,
    json_response,
    read_json,
    resource_group_not_found,
)
from acr_sandbox.arm.router import RG, SUB, ArmRouter
from acr_sandbox.arm.subscriptions import require_subscription
from acr_sandbox.context import Sandbox, ctx

_NAME = re.compile(r"^[-\w._()]{1,90}$")

# What a group holds: each provider registers how to remove its resources beneath a scope
# (as it registers its generic-list projection with ``resources``), so deleting a group
# needs no provider's module; they are emptied in the order they registered.
Emptier = Callable[[Sandbox, str], Awaitable[None]]
CONTENTS: dict[str, Emptier] = {}


def holds(resource_type: str, emptier: Emptier) -> None:
    CONTENTS[resource_type.lower()] = emptier


def key(sub: str, name: str) -> str:
    return f"{sub.lower()}/{name.lower()}"


def find(sandbox: Sandbox, sub: str, name: str) -> dict[str, Any] | None:
    return sandbox.store.section("resourceGroups").get(key(sub, name))


def require(sandbox: Sandbox, sub: str, name: str) -> dict[str, Any]:
    found = find(sandbox, sub, name)
    if found is None:
        raise resource_group_not_found(name)
    return found


def _check_name(name: str) -> None:
    if not _NAME.match(name) or name.endswith("."):
        raise ArmError(
            400,
            "InvalidResourceGroup",
            f"The provided resource group name '{name}' has these invalid characters: ''. The "
            "name can only be a letter, digit, '-', '.', '(', ')' or '_'.",
        )


def _tags(body: dict[str, Any]) -> dict[str, str]:
    tags = body.get("tags") or {}
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        raise invalid_body("'tags' must be an object of strings")
    return {str(k): v for k, v in tags.items()}


async def head(request: web.Request, params: dict[str, str]) -> web.Response:
    sandbox = ctx(request)
    require_subscription(sandbox, params["sub"])
    return web.Response(status=204 if find(sandbox, params["sub"], params["rg"]) else 404)


async def get(request: web.Request, params: dict[str, str]) -> web.Response:
    sandbox = ctx(request)
    require_subscription(sandbox, params["sub"])
    return json_response(require(sandbox, params["sub"], params["rg"]))


async def put(request: web.Request, params: dict[str, str]) -> web.Response:
    sandbox = ctx(request)
    sub = require_subscription(sandbox, params["sub"])
    name = params["rg"]
    _check_name(name)
    body = await read_json(request)
    location = body.get("location")
    if not isinstance(location, str) or not location:
        raise ArmError(
            400, "LocationRequired", "The location property is required for this definition."
        )
    existing = find(sandbox, sub, name)
    tags = _tags(body)
    if existing:
        if _norm_location(existing["location"]) != _norm_location(location):
            raise ArmError(
                409,
                "InvalidResourceGroupLocation",
                f"Invalid resource group location '{location}'. The Resource group already "
                f"exists in location '{existing['location']}'.",
            )
        existing["tags"] = tags
        sandbox.store.changed()
        return json_response(existing, status=200)
    record = {
        "id": f"/subscriptions/{sub}/resourceGroups/{name}",
        "name": name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": _norm_location(location),
        "tags": tags,
        "properties": {"provisioningState": "Succeeded"},
    }
    if isinstance(body.get("managedBy"), str):
        record["managedBy"] = body["managedBy"]
    sandbox.store.section("resourceGroups")[key(sub, name)] = record
    sandbox.store.changed()
    return json_response(record, status=201)


def _norm_location(location: str) -> str:
    return location.replace(" ", "").lower()


async def patch(request: web.Request, params: dict[str, str]) -> web.Response:
    sandbox = ctx(request)
    require_subscription(sandbox, params["sub"])
    record = require(sandbox, params["sub"], params["rg"])
    body = await read_json(request)
    if "tags" in body:
        record["tags"] = _tags(body)
    if isinstance(body.get("managedBy"), str):
        record["managedBy"] = body["managedBy"]
    sandbox.store.changed()
    return json_response(record)


async def delete(request: web.Request, params: dict[str, str]) -> web.Response:
    sandbox = ctx(request)
    sub = require_subscription(sandbox, params["sub"])
    record = require(sandbox, sub, params["rg"])
    scope = str(record["id"])
    operation = lro.start(sandbox, request, kind="resourceGroupDelete")
    for emptier in list(CONTENTS.values()):
        await emptier(sandbox, scope)
    delete_beneath(sandbox, scope)
    sandbox.store.section("resourceGroups").pop(key(sub, params["rg"]), None)
    sandbox.store.changed()
    lro.finish(sandbox, operation)
    location = lro.result_url(sandbox, f"/subscriptions/{sub}", operation, request)
    return web.Response(status=202, headers={"Location": location, "Retry-After": "0"})


async def list_groups(request: web.Request, params: dict[str, str]) -> web.Response:
    sandbox = ctx(request)
    sub = require_subscription(sandbox, params["sub"])
    prefix = f"{sub.lower()}/"
    groups = [
        rec for k, rec in sandbox.store.section("resourceGroups").items() if k.startswith(prefix)
    ]
    return json_response({"value": groups})


def register(router: ArmRouter) -> None:
    router.add("GET", SUB + r"/resourcegroups", list_groups)
    router.add("HEAD", RG, head)
    router.add("GET", RG, get)
    router.add("PUT", RG, put)
    router.add("PATCH", RG, patch)
    router.add("DELETE", RG, delete)
