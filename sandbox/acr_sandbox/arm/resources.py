"""The generic resource lists, ``Resources_List`` (``GET /subscriptions/{s}/resources``) and
``Resources_ListByResourceGroup`` (``…/resourceGroups/{rg}/resources``).

Clients find a resource by name alone through them: the az CLI resolves ``az acr … -n
NAME`` without ``-g`` with ``$filter=resourceType eq 'Microsoft.ContainerRegistry/
registries'`` and reads the resource group from the matching id. Every resource provider
of the sandbox registers a lister here; an item is the resource's ``GenericResource``
projection (id, name, type, sku, kind, location, identity, tags), as Azure lists it.

``$filter`` understands ``eq`` / ``ne`` on ``resourceType``, ``name``, ``location`` and
``resourceGroup``, ``substringof('x', name|resourceGroup)``, joined by ``and``;
anything else is ARM's 400 ``InvalidFilterInQueryString``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from acr_sandbox.arm import resourcegroups
from acr_sandbox.arm.errors import ArmError, json_response
from acr_sandbox.arm.router import RG, SUB, ArmRouter
from acr_sandbox.arm.subscriptions import require_subscription
from acr_sandbox.context import Sandbox, ctx

Lister = Callable[[Sandbox], Iterable[dict[str, Any]]]
LISTERS: dict[str, Lister] = {}
GENERIC_FIELDS = ("id", "name", "type", "sku", "kind", "location", "identity", "tags")
FILTERABLE = {"resourcetype": "type", "name": "name", "location": "location"}

_COMPARISON = re.compile(r"^\s*(\w+)\s+(eq|ne)\s+'((?:[^']|'')*)'\s*$", re.IGNORECASE)
_SUBSTRING = re.compile(r"^\s*substringof\(\s*'((?:[^']|'')*)'\s*,\s*(\w+)\s*\)\s*$", re.I)
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)

Predicate = Callable[[dict[str, Any]], bool]


def register_type(resource_type: str, lister: Lister) -> None:
    """Make a provider's resources (full ARM documents) visible in the generic lists."""
    LISTERS[resource_type.lower()] = lister


def generic(document: dict[str, Any]) -> dict[str, Any]:
    """The ``GenericResourceExpanded`` view of a resource document."""
    return {k: document[k] for k in GENERIC_FIELDS if document.get(k) is not None}


def resource_group_of(resource_id: str) -> str:
    parts = resource_id.split("/")
    return parts[4] if len(parts) > 4 else ""


def _invalid(raw: str) -> ArmError:
    return ArmError(
        400,
        "InvalidFilterInQueryString",
        f"Invalid $filter '{raw}' specified in the query string.",
    )


def _field(document: dict[str, Any], name: str) -> str:
    if name == "resourcegroup":
        return resource_group_of(str(document.get("id", "")))
    return str(document.get(FILTERABLE[name], ""))


def _clause(raw: str, clause: str) -> Predicate:
    if match := _COMPARISON.match(clause):
        name, operator = match[1].lower(), match[2].lower()
        value = match[3].replace("''", "'").lower()
        if name not in FILTERABLE and name != "resourcegroup":
            raise _invalid(raw)
        if name == "location":
            value = value.replace(" ", "")
        negate = operator == "ne"
        return lambda d: (_field(d, name).lower() == value) != negate
    if match := _SUBSTRING.match(clause):
        needle, name = match[1].replace("''", "'").lower(), match[2].lower()
        if name not in ("name", "resourcegroup"):
            raise _invalid(raw)
        return lambda d: needle in _field(d, name).lower()
    raise _invalid(raw)


def parse_filter(raw: str | None) -> list[Predicate]:
    if not raw or not raw.strip():
        return []
    return [_clause(raw, clause) for clause in _AND.split(raw.strip())]


def _documents(sandbox: Sandbox, prefix: str) -> list[dict[str, Any]]:
    found = [
        document
        for lister in LISTERS.values()
        for document in lister(sandbox)
        if str(document.get("id", "")).lower().startswith(prefix)
    ]
    return sorted(found, key=lambda d: str(d["id"]).lower())


def _answer(request: web.Request, sandbox: Sandbox, prefix: str) -> web.Response:
    predicates = parse_filter(request.query.get("$filter"))
    items = [generic(d) for d in _documents(sandbox, prefix) if all(p(d) for p in predicates)]
    size = max(1, int(sandbox.settings["pageSize"]))
    top = request.query.get("$top")
    try:
        offset = max(0, int(request.query.get("$skiptoken", "0")))
        if top is not None:
            size = max(1, min(size, int(top)))
    except ValueError:
        raise ArmError(
            400, "InvalidQueryParameterValue", "The $top or $skiptoken value is not valid."
        ) from None
    body: dict[str, Any] = {"value": items[offset : offset + size]}
    if offset + size < len(items) and top is None:
        query = {k: v for k, v in request.query.items() if k != "$skiptoken"}
        query["$skiptoken"] = str(offset + size)
        body["nextLink"] = f"{sandbox.base_url}{request.path}?{urlencode(query, quote_via=quote)}"
    return json_response(body)


async def list_in_subscription(request: web.Request, params: dict[str, str]) -> web.Response:
    sandbox = ctx(request)
    sub = require_subscription(sandbox, params["sub"])
    return _answer(request, sandbox, f"/subscriptions/{sub}/".lower())


async def list_in_group(request: web.Request, params: dict[str, str]) -> web.Response:
    sandbox = ctx(request)
    sub = require_subscription(sandbox, params["sub"])
    group = resourcegroups.require(sandbox, sub, params["rg"])
    return _answer(request, sandbox, f"{group['id']}/providers/".lower())


def register(router: ArmRouter) -> None:
    router.add("GET", SUB + r"/resources", list_in_subscription)
    router.add("GET", RG + r"/resources", list_in_group)
