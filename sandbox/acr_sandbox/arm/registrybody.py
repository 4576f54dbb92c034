"""Registry documents: the full body a real create answers with, and how PUT and PATCH
bodies change it (read-only fields ignored, policies merged one by one)."""

from __future__ import annotations

import copy
import datetime
import re
from typing import Any

from acr_sandbox.arm.errors import ArmError, invalid_body
from acr_sandbox.arm.trustrules import TrustView

NAME = re.compile(r"^[a-zA-Z0-9]{5,50}$")
SKUS = ("Basic", "Standard", "Premium")
WRITABLE = (
    "adminUserEnabled",
    "networkRuleSet",
    "encryption",
    "dataEndpointEnabled",
    "publicNetworkAccess",
    "networkRuleBypassOptions",
    "networkRuleBypassAllowedForTasks",
    "zoneRedundancy",
    "anonymousPullEnabled",
    "roleAssignmentMode",
)
POLICY_NAMES = (
    "quarantinePolicy",
    "trustPolicy",
    "retentionPolicy",
    "exportPolicy",
    "azureADAuthenticationAsArmPolicy",
)


def now_iso() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="microseconds")


def check_name(name: str) -> None:
    if not NAME.match(name):
        raise ArmError(
            400,
            "RegistryNameInvalid",
            f"The registry name '{name}' is invalid. A registry name must be 5 to 50 "
            "alphanumeric characters.",
            target="registryName",
        )


def _sku(raw: Any, required: bool) -> str | None:
    if raw is None and not required:
        return None
    name = raw.get("name") if isinstance(raw, dict) else None
    if not isinstance(name, str):
        raise invalid_body("'sku.name' is required")
    for sku in SKUS:
        if sku.lower() == name.lower():
            return sku
    raise ArmError(
        400, "InvalidSkuName", f"The SKU '{name}' is not valid. Valid SKUs: {', '.join(SKUS)}."
    )


def _tags(raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise invalid_body("'tags' must be an object of strings")
    return dict(raw)


def default_policies(stamp: str) -> dict[str, Any]:
    return {
        "quarantinePolicy": {"status": "disabled"},
        "trustPolicy": {"type": "Notary", "status": "disabled"},
        "retentionPolicy": {"days": 7, "lastUpdatedTime": stamp, "status": "disabled"},
        "exportPolicy": {"status": "enabled"},
        "azureADAuthenticationAsArmPolicy": {"status": "enabled"},
    }


def new_body(
    registry_id: str, name: str, request: dict[str, Any], principal: str
) -> dict[str, Any]:
    """The document of a registry being created from a PUT body."""
    location = request.get("location")
    if not isinstance(location, str) or not location:
        raise ArmError(400, "LocationRequired", "The location property is required.")
    sku = _sku(request.get("sku"), required=True)
    stamp = now_iso()
    body: dict[str, Any] = {
        "sku": {"name": sku, "tier": sku},
        "type": "Microsoft.ContainerRegistry/registries",
        "id": registry_id,
        "name": name,
        "location": location.replace(" ", "").lower(),
        "tags": _tags(request.get("tags")),
        "systemData": {
            "createdBy": principal,
            "createdByType": "Application",
            "createdAt": stamp,
            "lastModifiedBy": principal,
            "lastModifiedByType": "Application",
            "lastModifiedAt": stamp,
        },
        "properties": {
            "loginServer": "",
            "creationDate": stamp.replace("+00:00", "Z"),
            "provisioningState": "Creating",
            "adminUserEnabled": False,
            "policies": default_policies(stamp),
            "encryption": {"status": "disabled"},
            "dataEndpointEnabled": False,
            "dataEndpointHostNames": [],
            "privateEndpointConnections": [],
            "publicNetworkAccess": "Enabled",
            "networkRuleBypassOptions": "AzureServices",
            "networkRuleBypassAllowedForTasks": False,
            "zoneRedundancy": "Disabled",
            "anonymousPullEnabled": False,
            "roleAssignmentMode": "LegacyRegistryPermissions",
        },
    }
    if isinstance(request.get("identity"), dict):
        body["identity"] = _identity(request["identity"])
    apply_properties(body, request.get("properties"))
    follow_sku(body)
    return body


def follow_sku(body: dict[str, Any]) -> None:
    """Premium registries carry a ``networkRuleSet`` (a real Premium create answers
    ``{"defaultAction": "Allow", …}``); Basic and Standard ones have none."""
    properties = body["properties"]
    if body["sku"]["name"] == "Premium":
        properties.setdefault("networkRuleSet", {"defaultAction": "Allow", "ipRules": []})
    else:
        properties.pop("networkRuleSet", None)


def _identity(raw: dict[str, Any]) -> dict[str, Any]:
    kind = str(raw.get("type", "None"))
    identity: dict[str, Any] = {"type": kind}
    if "SystemAssigned" in kind:
        import uuid

        identity |= {"principalId": str(uuid.uuid4()), "tenantId": str(uuid.uuid4())}
    return identity


def apply_properties(body: dict[str, Any], raw: Any) -> None:
    if raw is None:
        return
    if not isinstance(raw, dict):
        raise invalid_body("'properties' must be an object")
    properties = body["properties"]
    for key in WRITABLE:
        if key in raw and raw[key] is not None:
            properties[key] = copy.deepcopy(raw[key])
    policies = raw.get("policies")
    if isinstance(policies, dict):
        _merge_policies(properties["policies"], policies)


def _merge_policies(current: dict[str, Any], changes: dict[str, Any]) -> None:
    for name in POLICY_NAMES:
        change = changes.get(name)
        if not isinstance(change, dict):
            continue
        merged = current.setdefault(name, {})
        for key, value in change.items():
            if key != "lastUpdatedTime" and value is not None:
                merged[key] = value
        if name == "trustPolicy":
            merged.setdefault("type", "Notary")
            status = str(merged.get("status", "disabled"))
            if status not in ("enabled", "disabled"):
                raise invalid_body(f"trustPolicy.status '{status}' must be enabled or disabled")
        if name == "retentionPolicy":
            merged["lastUpdatedTime"] = now_iso()


def updated_body(body: dict[str, Any], request: dict[str, Any], principal: str) -> dict[str, Any]:
    """The document after a PATCH (RegistryUpdateParameters)."""
    result = copy.deepcopy(body)
    if "tags" in request and request["tags"] is not None:
        result["tags"] = _tags(request["tags"])
    sku = _sku(request.get("sku"), required=False)
    if sku:
        result["sku"] = {"name": sku, "tier": sku}
    if isinstance(request.get("identity"), dict):
        result["identity"] = _identity(request["identity"])
    apply_properties(result, request.get("properties"))
    follow_sku(result)
    result["systemData"]["lastModifiedBy"] = principal
    result["systemData"]["lastModifiedAt"] = now_iso()
    return result


def replaced_body(body: dict[str, Any], request: dict[str, Any], principal: str) -> dict[str, Any]:
    """The document after a PUT on an existing registry: a full replacement of the
    writable parts; identity fields Azure keeps (id, creation date, login server) stay."""
    location = request.get("location")
    if isinstance(location, str) and location.replace(" ", "").lower() != body["location"]:
        raise ArmError(
            400,
            "InvalidResourceLocation",
            f"The resource '{body['name']}' already exists in location '{body['location']}'. "
            "A resource with the same name cannot be created in another location.",
        )
    fresh = new_body(body["id"], body["name"], request, principal)
    fresh["properties"]["loginServer"] = body["properties"]["loginServer"]
    fresh["properties"]["creationDate"] = body["properties"]["creationDate"]
    fresh["systemData"]["createdAt"] = body["systemData"]["createdAt"]
    fresh["systemData"]["createdBy"] = body["systemData"]["createdBy"]
    return fresh


def trust_view(body: dict[str, Any]) -> TrustView:
    properties = body["properties"]
    trust = properties.get("policies", {}).get("trustPolicy", {})
    return TrustView(
        sku=str(body["sku"]["name"]),
        trust_enabled=trust.get("status") == "enabled",
        role_assignment_mode=str(properties.get("roleAssignmentMode", "")),
    )
