"""Microsoft Graph v1.0, the part a role-assigning tool needs: service principals, users
and groups by object id, by alternate key ``(appId='…')``, and ``$filter`` on ``appId`` or
``displayName`` with ``$select``."""

from __future__ import annotations

import datetime
import re
import uuid
from typing import Any

from aiohttp import web

from acr_sandbox.arm.errors import ArmError, json_response
from acr_sandbox.context import Sandbox, ctx
from acr_sandbox.directory import require_bearer

COLLECTIONS = {"servicePrincipals": "ServicePrincipal", "users": "User", "groups": "Group"}
_FILTER = re.compile(r"^\s*(\w+)\s+eq\s+'((?:[^']|'')*)'\s*$")
_ALT_KEY = re.compile(r"^(\w+)\(appId='([^']*)'\)$")


class GraphError(ArmError):
    """Graph's error envelope: ARM's plus ``innerError`` (date and request ids)."""

    def body(self) -> dict[str, Any]:
        body = super().body()
        now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        request_id = str(uuid.uuid4())
        body["error"]["innerError"] = {
            "date": now,
            "request-id": request_id,
            "client-request-id": request_id,
        }
        return body


def _authenticate(request: web.Request, sandbox: Sandbox) -> None:
    """Graph's own 401s: ``InvalidAuthenticationToken`` with Graph's messages."""
    try:
        require_bearer(request, sandbox, sandbox.graph_audiences())
    except ArmError as error:
        empty = error.code == "AuthenticationFailed"
        message = "Access token is empty." if empty else "Access token validation failure."
        raise GraphError(401, "InvalidAuthenticationToken", message) from None


def _graph_error(status: int, code: str, message: str) -> ArmError:
    return GraphError(status, code, message)


def _representation(sandbox: Sandbox, record: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"id": record["id"], "displayName": record["displayName"]}
    kind = record.get("type", "ServicePrincipal")
    if kind == "ServicePrincipal":
        body |= {
            "appId": record["appId"],
            "accountEnabled": True,
            "appDisplayName": record["displayName"],
            "appOwnerOrganizationId": sandbox.tenant_id,
            "servicePrincipalNames": [record["appId"]],
            "servicePrincipalType": "Application",
            "signInAudience": "AzureADMyOrg",
            "tags": [],
        }
    elif kind == "User":
        name = re.sub(r"\W+", ".", str(record["displayName"])).lower()
        body |= {"userPrincipalName": f"{name}@sandbox.invalid", "accountEnabled": True}
    else:
        body |= {"securityEnabled": True, "mailEnabled": False, "groupTypes": []}
    return body


def _select(body: dict[str, Any], select: str | None) -> dict[str, Any]:
    if not select:
        return body
    wanted = [f.strip() for f in select.split(",") if f.strip()]
    return {k: body.get(k) for k in wanted}


def _context(sandbox: Sandbox, collection: str, select: str | None, entity: bool) -> str:
    fields = f"({select})" if select else ""
    return f"{sandbox.base_url}/v1.0/$metadata#{collection}{fields}{'/$entity' if entity else ''}"


def _members(sandbox: Sandbox, collection: str) -> list[dict[str, Any]]:
    kind = COLLECTIONS[collection]
    return [r for r in sandbox.store.section("principals").values() if r.get("type", "") == kind]


async def list_collection(request: web.Request) -> web.Response:
    sandbox = ctx(request)
    _authenticate(request, sandbox)
    collection = _collection(request.match_info["collection"])
    select = request.query.get("$select")
    members = _members(sandbox, collection)
    raw_filter = request.query.get("$filter")
    if raw_filter:
        match = _FILTER.match(raw_filter)
        if not match or match.group(1) not in ("appId", "displayName", "id"):
            raise _graph_error(
                400,
                "Request_UnsupportedQuery",
                f"Unsupported or invalid query filter clause "
                f"specified for property of resource '{COLLECTIONS[collection]}'.",
            )
        field, value = match.group(1), match.group(2).replace("''", "'")
        members = [m for m in members if _equals(field, m.get(field), value)]
    return json_response(
        {
            "@odata.context": _context(sandbox, collection, select, entity=False),
            "value": [_select(_representation(sandbox, m), select) for m in members],
        }
    )


def _equals(field: str, actual: Any, wanted: str) -> bool:
    if actual is None:
        return False
    if field == "displayName":
        return str(actual) == wanted
    return str(actual).lower() == wanted.lower()


async def get_member(request: web.Request) -> web.Response:
    sandbox = ctx(request)
    _authenticate(request, sandbox)
    key = request.match_info["key"]
    collection_segment = request.match_info["collection"]
    alt = _ALT_KEY.match(f"{collection_segment}{key}") if key.startswith("(") else None
    collection = _collection(collection_segment)
    select = request.query.get("$select")
    record = None
    if alt:
        record = next(
            (m for m in _members(sandbox, collection) if _equals("appId", m.get("appId"), alt[2])),
            None,
        )
    else:
        found = sandbox.store.section("principals").get(key.lower())
        if found and found.get("type") == COLLECTIONS[collection]:
            record = found
    if record is None:
        raise _not_found(key)
    body = {"@odata.context": _context(sandbox, collection, select, entity=True)}
    return json_response(body | _select(_representation(sandbox, record), select))


def _collection(segment: str) -> str:
    for name in COLLECTIONS:
        if segment.lower() == name.lower():
            return name
    raise _graph_error(400, "BadRequest", f"Resource not found for the segment '{segment}'.")


def _not_found(key: str) -> ArmError:
    return _graph_error(
        404,
        "Request_ResourceNotFound",
        f"Resource '{key}' does not exist or one of its queried reference-property objects "
        "are not present.",
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/v1.0/{collection:[A-Za-z]+}", list_collection)
    app.router.add_get("/v1.0/{collection:[A-Za-z]+}/{key}", get_member)
    app.router.add_get(r"/v1.0/{collection:[A-Za-z]+}{key:\(appId='[^']*'\)}", get_member)
