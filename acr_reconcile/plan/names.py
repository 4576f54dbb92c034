"""Identities the planner derives: ARM ids, plan addresses, role-assignment names.

They must be identical on every run for the same spec, so a re-plan finds what an earlier
apply made, and an interrupted apply re-run lands on the same names instead of creating
duplicates (a role assignment PUT with the same name is idempotent; a new name is a 409).
"""

from __future__ import annotations

import uuid

# Fixed forever: changing it would rename every role assignment this tool ever made.
ROLE_ASSIGNMENT_NAMESPACE = uuid.UUID("6f1d3c2e-8a4b-5c9d-9e0f-a1b2c3d4e5f6")


def target_key(subscription_id: str, registry: str) -> str:
    return f"{subscription_id.lower()}/{registry.lower()}"


def resource_group_id(subscription_id: str, resource_group: str) -> str:
    return f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"


def registry_id(subscription_id: str, resource_group: str, registry: str) -> str:
    provider = "providers/Microsoft.ContainerRegistry/registries"
    return f"{resource_group_id(subscription_id, resource_group)}/{provider}/{registry}"


def key_vault_id(subscription_id: str, resource_group: str, vault: str) -> str:
    provider = "providers/Microsoft.KeyVault/vaults"
    return f"{resource_group_id(subscription_id, resource_group)}/{provider}/{vault}"


def role_definition_id(subscription_id: str, role_guid: str) -> str:
    return (
        f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/"
        f"roleDefinitions/{role_guid}"
    )


def role_assignment_name(scope: str, principal_object_id: str, role_guid: str) -> str:
    """UUIDv5 of (scope, principal, role), like Bicep's ``guid(scope, principal, role)``."""
    key = f"{scope.lower()}|{principal_object_id.lower()}|{role_guid.lower()}"
    return str(uuid.uuid5(ROLE_ASSIGNMENT_NAMESPACE, key))


def role_assignment_id(scope: str, name: str) -> str:
    return f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"


def resource_group_address(subscription_id: str, resource_group: str) -> str:
    return f"resource-group:{subscription_id.lower()}/{resource_group.lower()}"


def registry_address(subscription_id: str, registry: str) -> str:
    return f"registry:{target_key(subscription_id, registry)}"


def trust_policy_address(subscription_id: str, registry: str) -> str:
    return f"trust-policy:{target_key(subscription_id, registry)}"


def key_vault_address(subscription_id: str, vault: str) -> str:
    """Vault names are global: one address per vault, whichever documents name it."""
    return f"key-vault:{subscription_id.lower()}/{vault.lower()}"


def signing_certificate_address(subscription_id: str, vault: str, certificate: str) -> str:
    return f"signing-certificate:{subscription_id.lower()}/{vault.lower()}/{certificate.lower()}"


def role_assignment_address(scope: str, principal_object_id: str, role_guid: str) -> str:
    return f"role-assignment:{scope.lower()}|{principal_object_id.lower()}|{role_guid.lower()}"


def image_address(kind: str, subscription_id: str, registry: str, repo: str, tag: str) -> str:
    """``image-import:`` or ``tag-signature:`` address of one tag."""
    return f"{kind}:{target_key(subscription_id, registry)}/{repo}:{tag}"


def normalise_location(location: str) -> str:
    """ARM accepts "West Europe" and answers "westeurope"; compare them as equal."""
    return location.replace(" ", "").lower()


def role_guid_of(role_definition_id_or_guid: str) -> str:
    """A bare lower-case GUID from a full role definition id or a GUID."""
    return role_definition_id_or_guid.rstrip("/").rsplit("/", 1)[-1].lower()
