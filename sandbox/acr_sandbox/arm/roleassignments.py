"""Role assignments at any scope: PUT (GUID names), GET, DELETE, list with
``$filter=atScope()`` / ``principalId eq '…'``.

A principal is invisible to role assignment for the replication lag after its creation
(setting ``replicationLagSeconds``), as Entra ID's replication makes it in Azure.
"""

from __future__ import annotations

import datetime
import re
import time
import uuid
from typing import Any

from aiohttp import web

from acr_sandbox.arm import registries, resourcegroups, roledefinitions
from acr_sandbox.arm.assignments import assignments
from acr_sandbox.arm.errors import (
    ArmError,
    invalid_body,
    json_response,
    not_found,
    read_json,
)
from acr_sandbox.arm.router import SCOPE, ArmRouter
from acr_sandbox.arm.subscriptions import require_subscription
from acr_sandbox.context import Sandbox, ctx
from acr_sandbox.directory import CLAIMS_KEY, within

PROVIDER = "/providers/Microsoft.Authorization/roleAssignments"
PRINCIPAL_TYPES = ("User", "Group", "ServicePrincipal", "ForeignGroup", "Device")
_SCOPE_PARTS = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)(/resourcegroups/(?P<rg>[^/]+)"
    r"(/providers/Microsoft\.ContainerRegistry/registries/(?P<name>[^/]+))?)?",
    re.IGNORECASE,
)


def _check_scope(sandbox: Sandbox, scope: str) -> str:
    """The scope with its resources' canonical names; 404 when a part does not exist."""
    match = _SCOPE_PARTS.match(scope)
    if not match:
        return scope
    sub = require_subscription(sandbox, match["sub"])
    if match["rg"]:
        group = resourcegroups.require(sandbox, sub, match["rg"])
        if match["name"]:
            entry = registries.find(sandbox, sub, group["name"], match["name"])
            if entry is None:
                raise not_found(registries.KIND, match["name"], match["rg"])
    return scope


def _principal_not_found(sandbox: Sandbox, principal_id: str) -> ArmError:
    return ArmError(
        400,
        "PrincipalNotFound",
        f"Principal {principal_id.replace('-', '').lower()} does not exist in the directory "
        f"{sandbox.tenant_id}. Check that you have the correct principal ID. If you are "
        "creating this principal and then immediately assigning a role, this error might be "
        "related to a replication delay. In this case, set the role assignment principalType "
        "property to a value, such as ServicePrincipal, User, or Group.  See "
        "https://aka.ms/docs-principaltype",
    )


def _principal_type(sandbox: Sandbox, principal_id: str, given: str | None) -> str:
    """The principal's actual type, which ARM records whatever the request says: an
    omitted ``principalType`` is filled in from the directory, a wrong one refused."""
    record = sandbox.store.section("principals").get(principal_id.lower())
    lag = float(sandbox.settings["replicationLagSeconds"])
    if record is None or time.time() < float(record.get("createdAt", 0)) + lag:
        raise _principal_not_found(sandbox, principal_id)
    actual = str(record.get("type", "ServicePrincipal"))
    if given is not None and given != actual:
        raise ArmError(
            400,
            "UnmatchedPrincipalType",
            # Azure's wording, its misspelling included.
            f"The PrincipalId '{principal_id.replace('-', '')}' has type '{actual}' , which is "
            f"different from specified PrinciaplType '{given}'.",
        )
    return actual


def _stamp() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


def _parse(body: dict[str, Any]) -> dict[str, Any]:
    properties = body.get("properties")
    if not isinstance(properties, dict):
        raise invalid_body("'properties' is required")
    role, principal = properties.get("roleDefinitionId"), properties.get("principalId")
    if not isinstance(role, str) or not isinstance(principal, str):
        raise invalid_body(
            "'properties.roleDefinitionId' and 'properties.principalId' are required"
        )
    kind = properties.get("principalType")
    if kind is not None and kind not in PRINCIPAL_TYPES:
        raise invalid_body(f"principalType '{kind}' is not one of {', '.join(PRINCIPAL_TYPES)}")
    return properties


async def put(request: web.Request, params: dict[str, str]) -> web.Response:
    sandbox = ctx(request)
    scope, name = params.get("scope", ""), params["name"]
    try:
        uuid.UUID(name)
    except ValueError:
        raise ArmError(
            400,
            "InvalidRoleAssignmentId",
            f"The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID.",
        ) from None
    _check_scope(sandbox, scope)
    properties = _parse(await read_json(request))
    guid = roledefinitions.guid_of(properties["roleDefinitionId"])
    if guid is None:
        raise ArmError(
            400,
            "RoleDefinitionDoesNotExist",
            f"The specified role definition with ID "
            f"'{properties['roleDefinitionId'].rsplit('/', 1)[-1]}' does not exist.",
        )
    principal = str(properties["principalId"]).lower()
    properties["principalType"] = _principal_type(
        sandbox, principal, properties.get("principalType")
    )
    assignment_id = f"{scope}{PROVIDER}/{name}"
    existing = assignments(sandbox).get(assignment_id.lower())
    _check_duplicates(sandbox, assignment_id, scope, principal, guid, existing)
    if existing:
        return json_response(existing, status=201)
    record = _record(request, sandbox, assignment_id, name, scope, guid, principal, properties)
    assignments(sandbox)[assignment_id.lower()] = record
    sandbox.store.changed()
    return json_response(record, status=201)


def _check_duplicates(
    sandbox: Sandbox,
    assignment_id: str,
    scope: str,
    principal: str,
    guid: str,
    existing: dict[str, Any] | None,
) -> None:
    if existing:
        same = existing["properties"]
        if (
            str(same["principalId"]).lower() != principal
            or roledefinitions.guid_of(same["roleDefinitionId"]) != guid
        ):
            raise ArmError(
                400,
                "RoleAssignmentUpdateNotPermitted",
                "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
            )
        return
    for other in assignments(sandbox).values():
        props = other["properties"]
        if (
            str(props["principalId"]).lower() == principal
            and roledefinitions.guid_of(props["roleDefinitionId"]) == guid
            and str(props["scope"]).lower() == scope.lower()
        ):
            raise ArmError(
                409,
                "RoleAssignmentExists",
                "The role assignment already exists. The ID of the existing role assignment "
                f"is {other['name'].replace('-', '')}.",
            )


def _record(
    request: web.Request,
    sandbox: Sandbox,
    assignment_id: str,
    name: str,
    scope: str,
    guid: str,
    principal: str,
    properties: dict[str, Any],
) -> dict[str, Any]:
    claims = request.get(CLAIMS_KEY) or {}
    stamp = _stamp()
    record: dict[str, Any] = {
        "id": assignment_id,
        "name": name,
        "type": "Microsoft.Authorization/roleAssignments",
        "properties": {
            "roleDefinitionId": roledefinitions.definition_id(scope, guid),
            "principalId": principal,
            "principalType": properties["principalType"],
            "scope": scope,
            "condition": properties.get("condition"),
            "conditionVersion": properties.get("conditionVersion"),
            "createdOn": stamp,
            "updatedOn": stamp,
            "createdBy": claims.get("oid"),
            "updatedBy": claims.get("oid"),
            "delegatedManagedIdentityResourceId": properties.get(
                "delegatedManagedIdentityResourceId"
            ),
            "description": properties.get("description"),
        },
    }
    # optional fields that are not set are left out (the spec types them as strings)
    record["properties"] = {k: v for k, v in record["properties"].items() if v is not None}
    return record


def _not_found(name: str) -> ArmError:
    return ArmError(404, "RoleAssignmentNotFound", f"The role assignment '{name}' is not found.")


async def get(request: web.Request, params: dict[str, str]) -> web.Response:
    sandbox = ctx(request)
    key = f"{params.get('scope', '')}{PROVIDER}/{params['name']}".lower()
    found = assignments(sandbox).get(key)
    if found is None:
        raise _not_found(params["name"])
    return json_response(found)


async def delete(request: web.Request, params: dict[str, str]) -> web.Response:
    sandbox = ctx(request)
    key = f"{params.get('scope', '')}{PROVIDER}/{params['name']}".lower()
    found = assignments(sandbox).pop(key, None)
    if found is None:
        return web.Response(status=204)
    sandbox.store.changed()
    return json_response(found)


# principalId eq '…' (the SDKs) and assignedTo('…') (the CLI) both select one principal
_PRINCIPAL = re.compile(r"principalId\s+eq\s+'([^']*)'|assignedTo\('([^']*)'\)", re.IGNORECASE)


async def list_assignments(request: web.Request, params: dict[str, str]) -> web.Response:
    sandbox = ctx(request)
    scope = params.get("scope", "")
    raw = request.query.get("$filter", "").strip()
    at_scope = "atscope()" in raw.lower()
    principal_match = _PRINCIPAL.search(raw)
    leftover = _PRINCIPAL.sub("", raw.lower().replace("atscope()", "")).replace("and", "").strip()
    if leftover:
        raise ArmError(400, "InvalidFilter", f"The filter '{raw}' is not supported.")
    principal = (principal_match[1] or principal_match[2]).lower() if principal_match else None
    found = []
    for record in assignments(sandbox).values():
        props = record["properties"]
        above = within(scope, props["scope"])
        below = within(props["scope"], scope)
        if at_scope and not above:
            continue
        if not (above or below):
            continue
        if principal and str(props["principalId"]).lower() != principal:
            continue
        found.append(record)
    return json_response({"value": found})


def register(router: ArmRouter) -> None:
    router.add("GET", SCOPE + PROVIDER, list_assignments)
    router.add("GET", SCOPE + PROVIDER + r"/(?P<name>[^/]+)", get)
    router.add("PUT", SCOPE + PROVIDER + r"/(?P<name>[^/]+)", put)
    router.add("DELETE", SCOPE + PROVIDER + r"/(?P<name>[^/]+)", delete)
