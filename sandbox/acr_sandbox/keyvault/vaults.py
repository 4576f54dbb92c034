"""``Microsoft.KeyVault/vaults`` on ARM: create/update (PUT, PATCH), get, delete into the
soft-deleted state, lists, the global name check, deleted vaults, purge (long-running,
``Location``) and access-policy updates.

The shapes follow the real exchanges: a create answers 200 with ``provisioningState:
RegisteringDns`` and a ``vaultUri`` without its trailing slash, later GETs answer
``Succeeded`` with the slash (as Azure answered the SDK, see docs/sandbox.md), a delete
answers 200 with no body, a purge answers 202 with a ``Location`` whose polls answer
``NotStarted`` then ``Succeeded``.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
import uuid
from typing import Any

from aiohttp import web

from acr_sandbox.arm import resourcegroups, resources
from acr_sandbox.arm.assignments import delete_beneath
from acr_sandbox.arm.errors import ArmError, json_response, not_found, read_json
from acr_sandbox.arm.router import RG, SUB, ArmRouter
from acr_sandbox.arm.subscriptions import require_subscription
from acr_sandbox.context import Sandbox, ctx
from acr_sandbox.directory import CLAIMS_KEY
from acr_sandbox.keyvault import names
from acr_sandbox.keyvault.plane import plane_of

KIND = "Microsoft.KeyVault/vaults"
DELETED_KIND = "Microsoft.KeyVault/deletedVaults"
PROVIDER = r"/providers/Microsoft\.KeyVault"
VAULT = RG + PROVIDER + r"/vaults/(?P<name>[^/]+)"
SECTION = "keyVaults"
DELETED = "deletedKeyVaults"
SKU_NAMES = ("standard", "premium")
POLICY_KINDS = ("add", "replace", "remove")
_FLAGS = (
    "enabledForDeployment",
    "enabledForDiskEncryption",
    "enabledForTemplateDeployment",
    "enableSoftDelete",
    "enableRbacAuthorization",
    "enablePurgeProtection",
)
_ALREADY_IN_USE = (
    "The vault name '{name}' is already in use. Vault names are globally unique so it is "
    "possible that the name is already taken. If you are sure that the vault name was not "
    "taken then it is possible that a vault with the same name was recently deleted but not "
    "purged after being placed in a recoverable state. If the vault is in a recoverable state "
    "then the vault will need to be purged before reusing the name. For more information on "
    "VaultAlreadyExists, soft delete and purging a vault follow this link "
    "https://go.microsoft.com/fwlink/?linkid=2147740."
)


def vaults(sandbox: Sandbox) -> dict[str, dict[str, Any]]:
    section: dict[str, dict[str, Any]] = sandbox.store.data.setdefault(SECTION, {})
    return section


def deleted(sandbox: Sandbox) -> dict[str, dict[str, Any]]:
    section: dict[str, dict[str, Any]] = sandbox.store.data.setdefault(DELETED, {})
    return section


def vault_id(sub: str, rg: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{KIND}/{name}"


def by_name(sandbox: Sandbox, name: str) -> dict[str, Any] | None:
    wanted = name.lower()
    return next((e for e in vaults(sandbox).values() if e["body"]["name"].lower() == wanted), None)


def _bad(message: str, code: str = "BadRequest") -> ArmError:
    return ArmError(400, code, message)


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _system_data(request: web.Request, before: dict[str, Any] | None) -> dict[str, Any]:
    claims = request.get(CLAIMS_KEY) or {}
    who = str(claims.get("appid") or claims.get("oid") or "unknown")
    stamp = _now()
    created = before or {"createdBy": who, "createdByType": "Application", "createdAt": stamp}
    return {
        "createdBy": created["createdBy"],
        "createdByType": created["createdByType"],
        "createdAt": created["createdAt"],
        "lastModifiedBy": who,
        "lastModifiedByType": "Application",
        "lastModifiedAt": stamp,
    }


def _check_name(name: str) -> None:
    if not names.NAME.match(name):
        raise _bad(
            f"The vault name '{name}' is invalid. A vault's name must be between 3-24 "
            "alphanumeric characters. The name must begin with a letter, end with a letter or "
            "digit, and not contain consecutive hyphens. Follow this link "
            "https://aka.ms/keyvaultnaming for more information.",
            "VaultNameNotValid",
        )


def _guid(value: Any, field: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise _bad(f"The value of '{field}' is not a valid GUID: '{value}'.") from None


def _policies(raw: Any, field: str) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > 1024:
        raise _bad(f"'{field}' must be an array of at most 1024 access policies.")
    out = []
    for index, entry in enumerate(raw):
        where = f"{field}[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("permissions"), dict):
            raise _bad(f"'{where}' needs tenantId, objectId and permissions.")
        if not isinstance(entry.get("objectId"), str) or not entry["objectId"]:
            raise _bad(f"'{where}.objectId' is required.")
        policy: dict[str, Any] = {
            "tenantId": _guid(entry.get("tenantId"), f"{where}.tenantId"),
            "objectId": entry["objectId"],
            "permissions": {},
        }
        if entry.get("applicationId"):
            policy["applicationId"] = _guid(entry["applicationId"], f"{where}.applicationId")
        for kind in ("keys", "secrets", "certificates", "storage"):
            perms = entry["permissions"].get(kind)
            if perms is None:
                continue
            if not isinstance(perms, list) or not all(isinstance(p, str) for p in perms):
                raise _bad(f"'{where}.permissions.{kind}' must be an array of strings.")
            policy["permissions"][kind] = list(perms)
        out.append(policy)
    return out


def _apply(properties: dict[str, Any], raw: dict[str, Any], *, creating: bool) -> None:
    """Copy the writable properties of a PUT/PATCH body into ``properties``, checked."""
    if "tenantId" in raw or creating:
        properties["tenantId"] = _guid(raw.get("tenantId"), "properties.tenantId")
    if "sku" in raw or creating:
        sku = raw.get("sku")
        if not isinstance(sku, dict) or sku.get("family", "A") != "A":
            raise _bad('\'properties.sku\' must be {"family": "A", "name": ...}.')
        if str(sku.get("name", "")).lower() not in SKU_NAMES:
            raise _bad(f"'properties.sku.name' must be one of {', '.join(SKU_NAMES)}.")
        properties["sku"] = {"family": "A", "name": str(sku["name"]).lower()}
    if "accessPolicies" in raw or creating:
        properties["accessPolicies"] = _policies(
            raw.get("accessPolicies"), "properties.accessPolicies"
        )
    for flag in _FLAGS:
        if flag in raw and raw[flag] is not None:
            if not isinstance(raw[flag], bool):
                raise _bad(f"'properties.{flag}' must be a boolean.")
            if flag == "enableSoftDelete" and properties.get(flag) and not raw[flag]:
                raise _bad(
                    'The property "enableSoftDelete" cannot be set to false. Enabling the '
                    "'soft delete' functionality is an irreversible action."
                )
            if flag == "enablePurgeProtection" and properties.get(flag) and not raw[flag]:
                raise _bad(
                    'The property "enablePurgeProtection" cannot be set to false. Enabling '
                    "the purge protection for a vault is an irreversible action."
                )
            if flag == "enablePurgeProtection" and not raw[flag]:
                continue  # absent means off; Azure never reports it as false
            properties[flag] = raw[flag]
    days = raw.get("softDeleteRetentionInDays")
    if days is not None:
        if not isinstance(days, int) or isinstance(days, bool) or not 7 <= days <= 90:
            raise _bad("'properties.softDeleteRetentionInDays' accepts >=7 and <=90.")
        properties["softDeleteRetentionInDays"] = days
    if raw.get("publicNetworkAccess") is not None:
        if raw["publicNetworkAccess"] not in ("Enabled", "Disabled"):
            raise _bad("'properties.publicNetworkAccess' must be Enabled or Disabled.")
        properties["publicNetworkAccess"] = raw["publicNetworkAccess"]
    if isinstance(raw.get("networkAcls"), dict):
        properties["networkAcls"] = raw["networkAcls"]


def _tags(raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise _bad("'tags' must be an object of strings.")
    return dict(raw)


def require(sandbox: Sandbox, params: dict[str, str]) -> dict[str, Any]:
    sub = require_subscription(sandbox, params["sub"])
    group = resourcegroups.require(sandbox, sub, params["rg"])
    entry = vaults(sandbox).get(vault_id(sub, group["name"], params["name"]).lower())
    if entry is None:
        raise not_found(KIND, params["name"], params["rg"])
    return entry


async def get(request: web.Request, params: dict[str, str]) -> web.Response:
    return json_response(require(ctx(request), params)["body"])


async def put(request: web.Request, params: dict[str, str]) -> web.Response:
    sandbox = ctx(request)
    sub = require_subscription(sandbox, params["sub"])
    group = resourcegroups.require(sandbox, sub, params["rg"])
    name = params["name"]
    _check_name(name)
    raw = await read_json(request)
    location, properties = raw.get("location"), raw.get("properties")
    if not isinstance(location, str) or not location or not isinstance(properties, dict):
        raise _bad("The request must name 'location' and carry 'properties'.")
    rid = vault_id(sub, group["name"], name)
    entry = vaults(sandbox).get(rid.lower())
    if entry is not None:
        body = entry["body"]
        _apply(body["properties"], properties, creating=False)
        body["tags"] = _tags(raw.get("tags")) if "tags" in raw else body.get("tags", {})
        body["systemData"] = _system_data(request, body.get("systemData"))
        sandbox.store.changed()
        return json_response(body)
    gone = deleted(sandbox).get(name.lower())
    if properties.get("createMode") == "recover":
        if gone is None or gone["vault"]["body"]["id"].lower() != rid.lower():
            raise ArmError(
                404,
                "DeletedVaultNotFound",
                f"A deleted vault with the name '{name}' was not found in resource group "
                f"'{params['rg']}'.",
            )
        return _recover(sandbox, gone)
    if gone is not None:
        raise ArmError(
            409,
            "ConflictError",
            "A vault with the same name already exists in deleted state. You need to either "
            "recover or purge existing key vault. Follow this link "
            "https://go.microsoft.com/fwlink/?linkid=2149745 for more information on soft "
            "delete.",
        )
    if by_name(sandbox, name) is not None:
        raise ArmError(409, "VaultAlreadyExists", _ALREADY_IN_USE.format(name=name))
    return _create(sandbox, request, rid, name, location, raw, properties)


def _create(
    sandbox: Sandbox,
    request: web.Request,
    rid: str,
    name: str,
    location: str,
    raw: dict[str, Any],
    properties: dict[str, Any],
) -> web.Response:
    props: dict[str, Any] = {
        "enabledForDeployment": False,
        "enabledForDiskEncryption": False,
        "enabledForTemplateDeployment": False,
        "enableSoftDelete": True,
        "softDeleteRetentionInDays": 90,
        "enableRbacAuthorization": True,
    }
    _apply(props, properties, creating=True)
    props["vaultUri"] = names.vault_uri(sandbox.store.data, name)
    props["provisioningState"] = "Succeeded"
    props.setdefault("publicNetworkAccess", "Enabled")
    ordered = {k: props[k] for k in ("sku", "tenantId", "accessPolicies")} | props
    body = {
        "id": rid,
        "name": name,
        "type": KIND,
        "location": location.replace(" ", "").lower(),
        "tags": _tags(raw.get("tags")),
        "systemData": _system_data(request, None),
        "properties": ordered,
    }
    vaults(sandbox)[rid.lower()] = {"body": body, "contentId": secrets.token_hex(8)}
    sandbox.store.changed()
    shown = dict(ordered)
    shown["provisioningState"] = "RegisteringDns"
    shown["vaultUri"] = str(ordered["vaultUri"]).rstrip("/")
    answer = {**body, "properties": shown}
    return json_response(answer)


def _recover(sandbox: Sandbox, gone: dict[str, Any]) -> web.Response:
    entry = gone["vault"]
    deleted(sandbox).pop(entry["body"]["name"].lower(), None)
    entry["body"]["properties"]["vaultUri"] = names.vault_uri(
        sandbox.store.data, entry["body"]["name"]
    )
    vaults(sandbox)[entry["body"]["id"].lower()] = entry
    sandbox.store.changed()
    return json_response(entry["body"])


async def patch(request: web.Request, params: dict[str, str]) -> web.Response:
    sandbox = ctx(request)
    entry = require(sandbox, params)
    raw = await read_json(request)
    properties = raw.get("properties") or {}
    if not isinstance(properties, dict):
        raise _bad("'properties' must be an object.")
    body = entry["body"]
    _apply(body["properties"], properties, creating=False)
    if "tags" in raw:
        body["tags"] = _tags(raw.get("tags"))
    body["systemData"] = _system_data(request, body.get("systemData"))
    sandbox.store.changed()
    return json_response(body)


def _stamp(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def soft_delete(sandbox: Sandbox, entry: dict[str, Any]) -> None:
    """Take a vault out of ARM: into the deleted state (soft delete on) or gone for good."""
    body = entry["body"]
    vaults(sandbox).pop(body["id"].lower(), None)
    props = body["properties"]
    if not props.get("enableSoftDelete", True):
        plane_of(sandbox).drop(entry)
        sandbox.store.changed()
        return
    now = time.time()
    days = int(props.get("softDeleteRetentionInDays", 90))
    record: dict[str, Any] = {
        "id": (
            f"/subscriptions/{body['id'].split('/')[2]}/providers/{DELETED_KIND.split('/')[0]}"
            f"/locations/{body['location']}/deletedVaults/{body['name']}"
        ),
        "name": body["name"],
        "type": DELETED_KIND,
        "properties": {
            "vaultId": body["id"],
            "location": body["location"],
            "tags": body.get("tags", {}),
            "deletionDate": _stamp(now),
            "scheduledPurgeDate": _stamp(now + days * 86400),
        },
    }
    if props.get("enablePurgeProtection"):
        record["properties"]["purgeProtectionEnabled"] = True
    deleted(sandbox)[body["name"].lower()] = {"body": record, "vault": entry}
    sandbox.store.changed()


async def delete(request: web.Request, params: dict[str, str]) -> web.Response:
    sandbox = ctx(request)
    sub = require_subscription(sandbox, params["sub"])
    group = resourcegroups.require(sandbox, sub, params["rg"])
    entry = vaults(sandbox).get(vault_id(sub, group["name"], params["name"]).lower())
    if entry is None:
        return web.Response(status=204)
    soft_delete(sandbox, entry)
    delete_beneath(sandbox, entry["body"]["id"])
    return web.Response(status=200)


async def delete_all_in(sandbox: Sandbox, scope: str) -> None:
    """Soft-delete every vault beneath ``scope`` (a resource group being deleted)."""
    prefix = scope.lower() + "/"
    for key in [k for k in vaults(sandbox) if k.startswith(prefix)]:
        soft_delete(sandbox, vaults(sandbox)[key])


def _page(request: web.Request, sandbox: Sandbox, items: list[dict[str, Any]]) -> web.Response:
    size = max(1, int(sandbox.settings["pageSize"]))
    raw_top = request.query.get("$top")
    try:
        if raw_top is not None:
            size = max(1, min(1000, int(raw_top)))
        offset = max(0, int(request.query.get("$skiptoken", "0")))
    except ValueError:
        raise _bad("The $top or $skiptoken value is not valid.") from None
    body: dict[str, Any] = {"value": items[offset : offset + size]}
    if offset + size < len(items):
        query = f"api-version={request.query.get('api-version', '')}"
        if raw_top is not None:
            query += f"&$top={size}"
        body["nextLink"] = f"{sandbox.base_url}{request.path}?{query}&$skiptoken={offset + size}"
    return json_response(body)


async def list_in_group(request: web.Request, params: dict[str, str]) -> web.Response:
    sandbox = ctx(request)
    sub = require_subscription(sandbox, params["sub"])
    group = resourcegroups.require(sandbox, sub, params["rg"])
    prefix = f"{group['id']}/providers/".lower()
    items = [e["body"] for k, e in vaults(sandbox).items() if k.startswith(prefix)]
    return _page(request, sandbox, items)


async def list_in_subscription(request: web.Request, params: dict[str, str]) -> web.Response:
    sandbox = ctx(request)
    sub = require_subscription(sandbox, params["sub"])
    prefix = f"/subscriptions/{sub}/".lower()
    items = [e["body"] for k, e in vaults(sandbox).items() if k.startswith(prefix)]
    return _page(request, sandbox, items)


async def check_name(request: web.Request, params: dict[str, str]) -> web.Response:
    sandbox = ctx(request)
    require_subscription(sandbox, params["sub"])
    body = await read_json(request)
    name, kind = body.get("name"), body.get("type")
    if not isinstance(name, str) or kind != KIND:
        raise _bad(f"The request must name the vault ('name') and the type '{KIND}' ('type').")
    if not names.NAME.match(name):
        return json_response(
            {
                "nameAvailable": False,
                "reason": "AccountNameInvalid",
                "message": f"The vault name '{name}' is invalid. A vault's name must be between "
                "3-24 alphanumeric characters. The name must begin with a letter, end with a "
                "letter or digit, and not contain consecutive hyphens.",
            }
        )
    if by_name(sandbox, name) is not None or name.lower() in deleted(sandbox):
        return json_response(
            {
                "nameAvailable": False,
                "reason": "AlreadyExists",
                "message": _ALREADY_IN_USE.format(name=name),
            }
        )
    return json_response({"nameAvailable": True})


def _deleted_in(sandbox: Sandbox, sub: str) -> list[dict[str, Any]]:
    return [
        e["body"]
        for e in deleted(sandbox).values()
        if e["body"]["id"].lower().startswith(f"/subscriptions/{sub}/".lower())
    ]


async def list_deleted(request: web.Request, params: dict[str, str]) -> web.Response:
    sandbox = ctx(request)
    sub = require_subscription(sandbox, params["sub"])
    return json_response({"value": _deleted_in(sandbox, sub)})


def _require_deleted(sandbox: Sandbox, params: dict[str, str]) -> dict[str, Any]:
    sub = require_subscription(sandbox, params["sub"])
    gone = deleted(sandbox).get(params["name"].lower())
    body = gone["body"] if gone else None
    if (
        gone is None
        or body is None
        or not body["id"].lower().startswith(f"/subscriptions/{sub}/".lower())
        or body["properties"]["location"].lower() != params["location"].replace(" ", "").lower()
    ):
        raise ArmError(
            404,
            "ResourceNotFound",
            f"The Resource '{DELETED_KIND}/{params['name']}' under location "
            f"'{params['location']}' was not found.",
        )
    return gone


async def get_deleted(request: web.Request, params: dict[str, str]) -> web.Response:
    return json_response(_require_deleted(ctx(request), params)["body"])


async def purge(request: web.Request, params: dict[str, str]) -> web.Response:
    sandbox = ctx(request)
    gone = _require_deleted(sandbox, params)
    if gone["body"]["properties"].get("purgeProtectionEnabled"):
        raise ArmError(
            409,
            "Conflict",
            f"Operation 'DeleteVault' is not allowed. The vault '{params['name']}' has purge "
            "protection enabled and can only be purged after its scheduled purge date.",
        )
    deleted(sandbox).pop(params["name"].lower(), None)
    plane_of(sandbox).drop(gone["vault"])
    sandbox.store.changed()
    op_id = secrets.token_urlsafe(24).replace("-", "A").replace("_", "B")
    sandbox.operations[op_id] = {
        "id": op_id,
        "kind": "keyVaultPurge",
        "created": time.time(),
        "started": time.time(),
        "pollsLeft": int(sandbox.settings["lroPolls"]),
    }
    location = (
        f"{sandbox.base_url}/subscriptions/{params['sub']}/providers/Microsoft.KeyVault/"
        f"locations/{params['location']}/operationResults/{op_id}"
        f"?api-version={request.query.get('api-version', '')}"
    )
    retry = str(int(sandbox.settings["lroRetryAfter"]))
    return web.Response(status=202, headers={"Location": location, "Retry-After": retry})


async def operation_result(request: web.Request, params: dict[str, str]) -> web.Response:
    sandbox = ctx(request)
    operation = sandbox.operations.get(params["op"])
    if operation is None or operation.get("kind") != "keyVaultPurge":
        raise ArmError(404, "OperationNotFound", f"The operation '{params['op']}' was not found.")
    created = dt.datetime.fromtimestamp(operation["created"], dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    if operation["pollsLeft"] > 0:
        operation["pollsLeft"] -= 1
        retry = str(int(sandbox.settings["lroRetryAfter"]))
        body = {"createdDateTime": created, "status": "NotStarted"}
        return json_response(body, status=202, headers={"Retry-After": retry})
    finished = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    return json_response(
        {"createdDateTime": created, "lastActionDateTime": finished, "status": "Succeeded"}
    )


async def update_access_policy(request: web.Request, params: dict[str, str]) -> web.Response:
    sandbox = ctx(request)
    entry = require(sandbox, params)
    kind = params["kind"].lower()
    if kind not in POLICY_KINDS:
        raise _bad(f"The operation kind '{params['kind']}' must be one of add, replace, remove.")
    raw = await read_json(request)
    props = raw.get("properties")
    if not isinstance(props, dict):
        raise _bad("'properties.accessPolicies' is required.")
    changes = _policies(props.get("accessPolicies"), "properties.accessPolicies")
    current: list[dict[str, Any]] = entry["body"]["properties"]["accessPolicies"]
    for change in changes:
        same = next(
            (
                p
                for p in current
                if p["objectId"].lower() == change["objectId"].lower()
                and p.get("applicationId") == change.get("applicationId")
            ),
            None,
        )
        if kind == "replace" or same is None:
            if same is not None:
                current.remove(same)
            if kind != "remove":
                current.append(change)
            continue
        for perm_kind, perms in change["permissions"].items():
            have = same["permissions"].setdefault(perm_kind, [])
            if kind == "add":
                have += [p for p in perms if p.lower() not in {h.lower() for h in have}]
            else:
                drop = {p.lower() for p in perms}
                same["permissions"][perm_kind] = [h for h in have if h.lower() not in drop]
    sandbox.store.changed()
    answer = {
        "id": f"{entry['body']['id']}/accessPolicies/",
        "type": f"{KIND}/accessPolicies",
        "properties": {"accessPolicies": changes},
    }
    return json_response(answer)


def _listed(sandbox: Sandbox) -> list[dict[str, Any]]:
    return [e["body"] for e in vaults(sandbox).values()]


def register(router: ArmRouter) -> None:
    # vaults.list() of azure-mgmt-keyvault reads the generic resource list
    resources.register_type(KIND, _listed)
    resourcegroups.holds(KIND, delete_all_in)
    router.add("POST", SUB + PROVIDER + r"/checkNameAvailability", check_name)
    router.add("GET", SUB + PROVIDER + r"/vaults", list_in_subscription)
    router.add("GET", SUB + PROVIDER + r"/deletedVaults", list_deleted)
    location = SUB + PROVIDER + r"/locations/(?P<location>[^/]+)"
    router.add("GET", location + r"/deletedVaults/(?P<name>[^/]+)", get_deleted)
    router.add("POST", location + r"/deletedVaults/(?P<name>[^/]+)/purge", purge)
    router.add("GET", location + r"/operationResults/(?P<op>[^/]+)", operation_result)
    router.add("GET", RG + PROVIDER + r"/vaults", list_in_group)
    router.add("GET", VAULT, get)
    router.add("PUT", VAULT, put)
    router.add("PATCH", VAULT, patch)
    router.add("DELETE", VAULT, delete)
    router.add("PUT", VAULT + r"/accessPolicies/(?P<kind>[^/]+)", update_access_policy)
