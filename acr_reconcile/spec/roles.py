"""Built-in Azure roles a signer may hold on a registry (or on its signing vault), by name.

Role definition GUIDs are the same in every tenant and cloud, so a spec can name a role
and the tool can build ``/subscriptions/{sub}/providers/Microsoft.Authorization/
roleDefinitions/{guid}`` without a lookup. Anything else is written as
``{roleDefinitionId: GUID}``. Key Vault roles (GUIDs from Azure's built-in roles list)
are assigned on the vault of ``notation.signingKey.keyVault``, not on the registry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from acr_reconcile.spec.models import RoleRef

BUILTIN_ROLES: dict[str, str] = {
    "AcrImageSigner": "6cef56e8-d556-48e5-a04f-b8e64114680f",
    "AcrPush": "8311e382-0749-4cb8-b61a-304f252e45ec",
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    "AcrDelete": "c2f4ef07-c644-48eb-af81-4b1b4947fb11",
    "AcrQuarantineReader": "cdda3590-29a3-44f6-95f2-9f980659eb04",
    "AcrQuarantineWriter": "c8d4ff99-41c3-41a8-9f60-21dfdad59608",
    "Container Registry Repository Reader": "b93aa761-3e63-49ed-ac28-beffa264f7ac",
    "Container Registry Repository Writer": "2a1e307c-b015-4ebd-883e-5b7698a07328",
    "Container Registry Repository Contributor": "2efddaa5-3f1f-4df3-97df-af3f13818f4c",
    "Container Registry Repository Catalog Lister": "bfdb9389-c9a5-478a-bb2f-ba9ca092c3c7",
    "Key Vault Crypto User": "12338af0-0e69-4776-bea7-57ae8d297424",
    "Key Vault Certificate User": "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba",
    "Key Vault Certificates Officer": "a4417e6f-fecd-4de8-b567-7b0420556985",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
}
# Roles whose scope is the signing vault (data-plane roles of an RBAC-authorized vault).
KEY_VAULT_ROLES = frozenset(
    {
        "Key Vault Crypto User",
        "Key Vault Certificate User",
        "Key Vault Certificates Officer",
        "Key Vault Secrets User",
    }
)

_NAME_BY_GUID: dict[str, str] = {guid: name for name, guid in BUILTIN_ROLES.items()}


def role_definition_guid(role: RoleRef) -> str:
    """The role definition GUID (lower case) a spec role stands for."""
    if isinstance(role, str):
        return BUILTIN_ROLES[role]
    return role.role_definition_id.lower()


def role_display_name(role: RoleRef) -> str:
    """A label for output: the built-in name when the GUID is a known built-in."""
    guid = role_definition_guid(role)
    return _NAME_BY_GUID.get(guid, guid)


def is_key_vault_role(role: RoleRef) -> bool:
    """Whether the role is assigned on the signing vault rather than on the registry."""
    return builtin_role_name(role_definition_guid(role)) in KEY_VAULT_ROLES


def builtin_role_name(guid: str) -> str | None:
    """The built-in name of a role definition GUID, or None for a custom role."""
    return _NAME_BY_GUID.get(guid.lower())
