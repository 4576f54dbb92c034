"""Built-in role definitions with their real GUIDs: get, and list with ``roleName eq``."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from acr_sandbox.arm.errors import ArmError, json_response
from acr_sandbox.arm.router import SCOPE, ArmRouter
from acr_sandbox.keyvault import roles as keyvault_roles

PROVIDER = "/providers/Microsoft.Authorization/roleDefinitions"
_ACR = "Microsoft.ContainerRegistry/registries"

# name, GUID, description, actions, dataActions
BUILT_INS: tuple[tuple[str, str, str, list[str], list[str]], ...] = (
    ("Owner", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
     "Grants full access to manage all resources, including the ability to assign roles in "
     "Azure RBAC.", ["*"], []),
    ("Contributor", "b24988ac-6180-42a0-ab88-20f7382dd24c",
     "Grants full access to manage all resources, but does not allow you to assign roles in "
     "Azure RBAC.", ["*"], []),
    ("Reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7",
     "View all resources, but does not allow you to make any changes.", ["*/read"], []),
    ("User Access Administrator", "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
     "Lets you manage user access to Azure resources.",
     ["*/read", "Microsoft.Authorization/*"], []),
    ("AcrImageSigner", "6cef56e8-d556-48e5-a04f-b8e64114680f",
     "Push trusted images to or pull trusted images from a container registry enabled for "
     "content trust. Avoid using this role: it will be removed on March 31, 2028.",
     [f"{_ACR}/sign/write"], [f"{_ACR}/trustedCollections/write"]),
    ("AcrPush", "8311e382-0749-4cb8-b61a-304f252e45ec",
     "Push artifacts to or pull artifacts from a container registry.",
     [f"{_ACR}/pull/read", f"{_ACR}/push/write"], []),
    ("AcrPull", "7f951dda-4ed3-4680-a7ca-43fe172d538d",
     "Pull artifacts from a container registry.", [f"{_ACR}/pull/read"], []),
    ("AcrDelete", "c2f4ef07-c644-48eb-af81-4b1b4947fb11",
     "Delete repositories, tags, or manifests from a container registry.",
     [f"{_ACR}/artifacts/delete"], []),
    ("AcrQuarantineReader", "cdda3590-29a3-44f6-95f2-9f980659eb04",
     "Pull quarantined images from a container registry.", [f"{_ACR}/quarantine/read"], []),
    ("AcrQuarantineWriter", "c8d4ff99-41c3-41a8-9f60-21dfdad59608",
     "Push quarantined images to or pull quarantined images from a container registry.",
     [f"{_ACR}/quarantine/read", f"{_ACR}/quarantine/write"], []),
    ("Container Registry Repository Reader", "b93aa761-3e63-49ed-ac28-beffa264f7ac",
     "Allows read access to a container registry's repositories.", [],
     [f"{_ACR}/repositories/content/read", f"{_ACR}/repositories/metadata/read"]),
    ("Container Registry Repository Writer", "2a1e307c-b015-4ebd-883e-5b7698a07328",
     "Allows read and write access to a container registry's repositories.", [],
     [f"{_ACR}/repositories/content/read", f"{_ACR}/repositories/content/write",
      f"{_ACR}/repositories/metadata/read", f"{_ACR}/repositories/metadata/write"]),
    ("Container Registry Repository Contributor", "2efddaa5-3f1f-4df3-97df-af3f13818f4c",
     "Allows read, write and delete access to a container registry's repositories.", [],
     [f"{_ACR}/repositories/content/read", f"{_ACR}/repositories/content/write",
      f"{_ACR}/repositories/content/delete", f"{_ACR}/repositories/metadata/read",
      f"{_ACR}/repositories/metadata/write", f"{_ACR}/repositories/metadata/delete"]),
    ("Container Registry Repository Catalog Lister", "bfdb9389-c9a5-478a-bb2f-ba9ca092c3c7",
     "Allows listing all repositories in a container registry.", [],
     [f"{_ACR}/catalog/read"]),
)  # fmt: skip
BUILT_INS = (*BUILT_INS, *keyvault_roles.BUILT_INS)
BY_GUID = {guid: entry for entry in BUILT_INS for guid in [entry[1]]}
_FILTER = re.compile(r"^\s*(roleName|type)\s+eq\s+'((?:[^']|'')*)'\s*$", re.IGNORECASE)


def definition_id(scope: str, guid: str) -> str:
    """Built-ins are addressed under the subscription of ``scope`` (or tenant root)."""
    parts = scope.strip("/").split("/")
    prefix = (
        f"/subscriptions/{parts[1]}"
        if len(parts) >= 2 and parts[0].lower() == "subscriptions"
        else ""
    )
    return f"{prefix}{PROVIDER}/{guid}"


def representation(scope: str, guid: str) -> dict[str, Any]:
    name, _, description, actions, data_actions = BY_GUID[guid]
    return {
        "id": definition_id(scope, guid),
        "type": "Microsoft.Authorization/roleDefinitions",
        "name": guid,
        "properties": {
            "roleName": name,
            "type": "BuiltInRole",
            "description": description,
            "assignableScopes": ["/"],
            "permissions": [
                {
                    "actions": actions,
                    "notActions": [],
                    "dataActions": data_actions,
                    "notDataActions": [],
                }
            ],
            "createdOn": "2015-02-02T21:55:09.8806423Z",
            "updatedOn": "2024-01-01T00:00:00.0000000Z",
        },
    }


def guid_of(role_definition_id: str) -> str | None:
    guid = role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()
    return guid if guid in BY_GUID else None


def does_not_exist(role_definition_id: str) -> ArmError:
    return ArmError(
        404,
        "RoleDefinitionDoesNotExist",
        f"The specified role definition with ID '{role_definition_id.rsplit('/', 1)[-1]}' "
        "does not exist.",
    )


async def get_definition(request: web.Request, params: dict[str, str]) -> web.Response:
    guid = guid_of(params["id"])
    if guid is None:
        raise does_not_exist(params["id"])
    return json_response(representation(params.get("scope", ""), guid))


async def list_definitions(request: web.Request, params: dict[str, str]) -> web.Response:
    scope = params.get("scope", "")
    guids = list(BY_GUID)
    raw = request.query.get("$filter")
    if raw:
        match = _FILTER.match(raw)
        if not match:
            raise ArmError(400, "InvalidFilter", f"The filter '{raw}' is not supported.")
        field, value = match.group(1).lower(), match.group(2).replace("''", "'")
        if field == "rolename":
            guids = [g for g in guids if BY_GUID[g][0].lower() == value.lower()]
        elif value != "BuiltInRole":
            guids = []
    return json_response({"value": [representation(scope, g) for g in guids]})


def register(router: ArmRouter) -> None:
    router.add("GET", SCOPE + PROVIDER, list_definitions)
    router.add("GET", SCOPE + PROVIDER + r"/(?P<id>[^/]+)", get_definition)
