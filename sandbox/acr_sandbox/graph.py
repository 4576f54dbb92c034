"""Microsoft Graph v1.0, the part a role-assigning tool needs: service principals, users
and groups by object id, by alternate key ``(appId='…')``, ``$filter`` (``appId``,
``displayName``, ``id``, ``userPrincipalName`` ``eq``, ``servicePrincipalNames/any(c:c eq
'…')``) with ``$select``, and ``directoryObjects`` (``getByIds``, by id)."""

from __future__ import annotations

import datetime
import json
import re
import uuid
from collections.abc import Callable
from typing import Any

from aiohttp import web

from acr_sandbox.arm.errors import ArmError, json_response
from acr_sandbox.context import Sandbox, ctx
from acr_sandbox.directory import require_bearer

COLLECTIONS = {"servicePrincipals": "ServicePrincipal", "users": "User", "groups": "Group"}
ODATA_TYPES = {
    "ServicePrincipal": "#microsoft.graph.servicePrincipal",
    "User": "#microsoft.graph.user",
    "Group": "#microsoft.graph.group",
}
# the properties each collection can be filtered on with 'eq'
FILTERABLE = {
    "servicePrincipals": ("appId", "displayName", "id"),
    "users": ("userPrincipalName", "displayName", "id"),
    "groups": ("displayName", "id"),
}
GET_BY_IDS_LIMIT = 1000
_FILTER = re.compile(r"^\s*(\w+)\s+eq\s+'((?:[^']|'')*)'\s*$")
# servicePrincipalNames/any(c:c eq 'x'): a lambda over a collection, as az sends it
_ANY = re.compile(r"^\s*(\w+)/any\(\s*(\w+)\s*:\s*(\w+)\s+eq\s+'((?:[^']|'')*)'\s*\)\s*$")
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
    shown = [_representation(sandbox, m) for m in members]
    raw_filter = request.query.get("$filter")
    if raw_filter:
        keep = _predicate(collection, raw_filter)
        shown = [body for body in shown if keep(body)]
    return json_response(
        {
            "@odata.context": _context(sandbox, collection, select, entity=False),
            "value": [_select(body, select) for body in shown],
        }
    )


def _predicate(collection: str, raw: str) -> Callable[[dict[str, Any]], bool]:
    """One ``eq`` clause on a filterable property, or ``servicePrincipalNames/any(…)``."""
    if match := _FILTER.match(raw):
        field, value = match[1], match[2].replace("''", "'")
        if field in FILTERABLE[collection]:
            return lambda body: _equals(field, body.get(field), value)
    if (match := _ANY.match(raw)) and collection == "servicePrincipals":
        field, variable, operand = match[1], match[2], match[3]
        value = match[4].replace("''", "'")
        if field == "servicePrincipalNames" and variable == operand:
            return lambda body: any(_equals(field, n, value) for n in body.get(field, []))
    raise _graph_error(
        400,
        "Request_UnsupportedQuery",
        f"Unsupported or invalid query filter clause specified for property of resource "
        f"'{COLLECTIONS[collection]}'.",
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


def _directory_object(sandbox: Sandbox, record: dict[str, Any]) -> dict[str, Any]:
    kind = str(record.get("type", "ServicePrincipal"))
    return {"@odata.type": ODATA_TYPES[kind]} | _representation(sandbox, record)


async def get_by_ids(request: web.Request) -> web.Response:
    """``POST /directoryObjects/getByIds``: the objects among ``ids`` that exist (unknown
    ids are left out, as Graph does), of the ``types`` asked for, each with its
    ``@odata.type`` — az reads a principal's type from it."""
    sandbox = ctx(request)
    _authenticate(request, sandbox)
    try:
        body = json.loads(await request.read() or b"null")
    except ValueError:
        body = None
    ids = body.get("ids") if isinstance(body, dict) else None
    types = body.get("types") if isinstance(body, dict) else None
    if (
        not isinstance(ids, list)
        or not all(isinstance(i, str) for i in ids)
        or not 0 < len(ids) <= GET_BY_IDS_LIMIT
        or (types is not None and not all(isinstance(t, str) for t in types))
    ):
        raise _graph_error(
            400,
            "Request_BadRequest",
            "Invalid request: 'ids' must be a list of 1 to 1000 object ids, 'types' a list "
            "of strings.",
        )
    wanted = {str(t).lower() for t in types} if types else None
    principals = sandbox.store.section("principals")
    found = []
    for object_id in ids:
        record = principals.get(object_id.lower())
        if record is None:
            continue
        kind = ODATA_TYPES[str(record.get("type", "ServicePrincipal"))].rsplit(".", 1)[-1]
        if wanted is None or kind.lower() in wanted or "directoryobject" in wanted:
            found.append(_directory_object(sandbox, record))
    return json_response(
        {"@odata.context": f"{sandbox.base_url}/v1.0/$metadata#directoryObjects", "value": found}
    )


async def get_directory_object(request: web.Request) -> web.Response:
    sandbox = ctx(request)
    _authenticate(request, sandbox)
    key = request.match_info["key"]
    record = sandbox.store.section("principals").get(key.lower())
    if record is None:
        raise _not_found(key)
    context = {"@odata.context": f"{sandbox.base_url}/v1.0/$metadata#directoryObjects/$entity"}
    return json_response(context | _directory_object(sandbox, record))


async def unsupported(request: web.Request) -> web.Response:
    """Whatever else reaches ``/v1.0``: Graph's JSON error, never a bare-text 404/405 that
    clients cannot parse."""
    sandbox = ctx(request)
    _authenticate(request, sandbox)
    segments = [s for s in request.path.split("/")[2:] if s]
    if request.method == "GET" and segments and segments[0].lower() not in KNOWN_SEGMENTS:
        raise _graph_error(
            400, "BadRequest", f"Resource not found for the segment '{segments[0]}'."
        )
    raise _graph_error(
        405,
        "Request_BadRequest",
        "Specified HTTP method is not allowed for the request uri.",
    )


KNOWN_SEGMENTS = frozenset(name.lower() for name in (*COLLECTIONS, "directoryObjects"))


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v1.0/directoryObjects/getByIds", get_by_ids)
    app.router.add_post("/v1.0/directoryObjects/microsoft.graph.getByIds", get_by_ids)
    app.router.add_get("/v1.0/directoryObjects/{key}", get_directory_object)
    app.router.add_get("/v1.0/{collection:[A-Za-z]+}", list_collection)
    app.router.add_get("/v1.0/{collection:[A-Za-z]+}/{key}", get_member)
    app.router.add_get(r"/v1.0/{collection:[A-Za-z]+}{key:\(appId='[^']*'\)}", get_member)
    app.router.add_route("*", "/v1.0/{tail:.*}", unsupported)
