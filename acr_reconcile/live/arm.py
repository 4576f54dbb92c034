"""Batched ARM reads: one list per subscription instead of one GET per resource.

A fleet of N registries in S subscriptions costs 3·S paged list calls (resource groups,
registries, role assignments), whatever N is. ``parse_*`` turn SDK models into LiveState
types so nothing SDK-shaped leaves this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from acr_reconcile.azure.clients import AzureSession
from acr_reconcile.azure.errors import translate
from acr_reconcile.azure.paging import PageGuard, all_items
from acr_reconcile.live.state import (
    LiveRegistry,
    LiveResourceGroup,
    LiveRoleAssignment,
    NameAvailability,
)


@dataclass(frozen=True)
class SubscriptionSnapshot:
    """What the three list calls of one subscription returned, keyed by lower-case name."""

    subscription_id: str
    resource_groups: dict[str, LiveResourceGroup] = field(default_factory=dict)
    registries: dict[str, LiveRegistry] = field(default_factory=dict)
    role_assignments: tuple[LiveRoleAssignment, ...] = ()


def _wire(model: Any) -> dict[str, Any]:
    """Wire-shaped (camelCase) dict of a hybrid SDK model."""
    as_dict = model.as_dict()
    return as_dict if isinstance(as_dict, dict) else {}


def parse_resource_group(model: Any) -> LiveResourceGroup:
    raw = _wire(model)
    return LiveResourceGroup(
        id=str(raw["id"]),
        name=str(raw["name"]),
        location=str(raw.get("location", "")),
        tags=dict(raw.get("tags") or {}),
    )


def resource_group_of(resource_id: str) -> str:
    parts = resource_id.split("/")
    lowered = [p.lower() for p in parts]
    return parts[lowered.index("resourcegroups") + 1] if "resourcegroups" in lowered else ""


def parse_registry(model: Any) -> LiveRegistry:
    raw = _wire(model)
    props = raw.get("properties") or {}
    trust = (props.get("policies") or {}).get("trustPolicy") or {}
    encryption = props.get("encryption") or {}
    return LiveRegistry(
        id=str(raw["id"]),
        name=str(raw["name"]),
        resource_group=resource_group_of(str(raw["id"])),
        location=str(raw.get("location", "")),
        sku=str((raw.get("sku") or {}).get("name", "")),
        login_server=str(props.get("loginServer", "")),
        admin_user_enabled=bool(props.get("adminUserEnabled", False)),
        trust_status=str(trust.get("status", "disabled")).lower(),
        role_assignment_mode=str(props.get("roleAssignmentMode") or "LegacyRegistryPermissions"),
        encryption_enabled=str(encryption.get("status", "disabled")).lower() == "enabled",
        provisioning_state=str(props.get("provisioningState") or "Succeeded"),
        tags=dict(raw.get("tags") or {}),
        etag=raw.get("etag"),
    )


def parse_role_assignment(model: Any) -> LiveRoleAssignment:
    role_definition_id = str(model.role_definition_id or "")
    return LiveRoleAssignment(
        id=str(model.id),
        name=str(model.name),
        scope=str(model.scope or model.id.split("/providers/Microsoft.Authorization/")[0]),
        role_definition_guid=role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower(),
        principal_id=str(model.principal_id or "").lower(),
        principal_type=str(model.principal_type or ""),
    )


def applies_to(assignment: LiveRoleAssignment, resource_id: str) -> bool:
    """Whether an assignment at its scope grants on ``resource_id`` (same scope or above)."""
    scope = assignment.scope.rstrip("/").lower()
    target = resource_id.rstrip("/").lower()
    if not scope or scope.startswith("/providers/microsoft.management/"):
        return True
    return target == scope or target.startswith(scope + "/")


def list_resource_groups(
    session: AzureSession, subscription_id: str
) -> dict[str, LiveResourceGroup]:
    where = f"/subscriptions/{subscription_id}/resourceGroups"
    try:
        pages = session.resources(subscription_id).resource_groups.list()
        guard = PageGuard(session.cloud.resource_manager, where)
        groups = [parse_resource_group(g) for g in all_items(pages, guard)]
    except Exception as error:
        raise _translated(error, where, "listing resource groups") from None
    return {g.name.lower(): g for g in groups}


def list_registries(session: AzureSession, subscription_id: str) -> dict[str, LiveRegistry]:
    where = f"/subscriptions/{subscription_id}/providers/Microsoft.ContainerRegistry/registries"
    try:
        pages = session.registries(subscription_id).registries.list()
        guard = PageGuard(session.cloud.resource_manager, where)
        registries = [parse_registry(r) for r in all_items(pages, guard)]
    except Exception as error:
        raise _translated(error, where, "listing registries") from None
    return {r.name.lower(): r for r in registries}


def list_role_assignments(
    session: AzureSession, subscription_id: str
) -> tuple[LiveRoleAssignment, ...]:
    where = f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleAssignments"
    client = session.authorization(subscription_id)
    try:
        pages = client.role_assignments.list_for_subscription()
        guard = PageGuard(session.cloud.resource_manager, where)
        return tuple(parse_role_assignment(a) for a in all_items(pages, guard))
    except Exception as error:
        raise _translated(error, where, "listing role assignments") from None


def get_registry(
    session: AzureSession, subscription_id: str, group: str, name: str
) -> LiveRegistry | None:
    """One registry, None when it (or its resource group) does not exist."""
    from azure.core.exceptions import ResourceNotFoundError

    where = (
        f"/subscriptions/{subscription_id}/resourceGroups/{group}"
        f"/providers/Microsoft.ContainerRegistry/registries/{name}"
    )
    try:
        return parse_registry(session.registries(subscription_id).registries.get(group, name))
    except ResourceNotFoundError:
        return None
    except Exception as error:
        raise _translated(error, where, "reading the registry") from None


def check_name(session: AzureSession, subscription_id: str, name: str) -> NameAvailability:
    """Whether a registry name is free (registry names are global across Azure)."""
    from azure.mgmt.containerregistry.models import RegistryNameCheckRequest

    client = session.registries(subscription_id)
    request = RegistryNameCheckRequest(name=name, type="Microsoft.ContainerRegistry/registries")
    try:
        result = client.registries.check_name_availability(request)
    except Exception as error:
        raise _translated(error, f"registry name {name!r}", "checking name availability") from None
    return NameAvailability(
        available=bool(result.name_available),
        reason=result.reason,
        message=result.message,
    )


def _translated(error: Exception, where: str, doing: str) -> Exception:
    from azure.core.exceptions import AzureError as SdkError

    return translate(error, where, doing) if isinstance(error, SdkError) else error
