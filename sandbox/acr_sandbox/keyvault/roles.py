"""Key Vault's built-in roles (GUIDs, actions and data actions as Azure's built-in roles
list states them) and the data-action check the vaults' data planes make.

Azure RBAC wildcards: ``*`` in an action pattern matches any run of characters, so
``Microsoft.KeyVault/vaults/*/read`` grants ``Microsoft.KeyVault/vaults/keys/read`` but not
``…/secrets/getSecret/action``. Owner and Contributor carry no data actions: in Azure an
Owner of the subscription gets 403 from a vault in RBAC mode until it holds a Key Vault role.
"""

from __future__ import annotations

import re
from functools import cache

_KV = "Microsoft.KeyVault"
_READS = [
    "Microsoft.Authorization/*/read",
    "Microsoft.Insights/alertRules/*",
    "Microsoft.Resources/deployments/*",
    "Microsoft.Resources/subscriptions/resourceGroups/read",
    "Microsoft.Support/*",
    f"{_KV}/checkNameAvailability/read",
    f"{_KV}/deletedVaults/read",
    f"{_KV}/locations/*/read",
    f"{_KV}/vaults/*/read",
    f"{_KV}/operations/read",
]
_RBAC_ONLY = (
    " Only works for key vaults that use the 'Azure role-based access control' permission model."
)

ADMINISTRATOR = "00482a5a-887f-4fb3-b363-3b7fe8e74483"
CERTIFICATES_OFFICER = "a4417e6f-fecd-4de8-b567-7b0420556985"
CERTIFICATE_USER = "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba"
CONTRIBUTOR = "f25e0fa2-a7c8-4377-a976-54943a77a395"
CRYPTO_OFFICER = "14b46e9e-c2b7-41b4-b07b-48a6ebf60603"
CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424"
READER = "21090545-7ca7-4776-b22c-e363652d74d2"
SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"

# name, GUID, description, actions, dataActions (the shape of roledefinitions.BUILT_INS)
BUILT_INS: tuple[tuple[str, str, str, list[str], list[str]], ...] = (
    ("Key Vault Administrator", ADMINISTRATOR,
     "Perform all data plane operations on a key vault and all objects in it, including "
     "certificates, keys, and secrets. Cannot manage key vault resources or manage role "
     "assignments." + _RBAC_ONLY, _READS, [f"{_KV}/vaults/*"]),
    ("Key Vault Certificates Officer", CERTIFICATES_OFFICER,
     "Perform any action on the certificates of a key vault, except manage permissions."
     + _RBAC_ONLY, _READS,
     [f"{_KV}/vaults/certificatecas/*", f"{_KV}/vaults/certificates/*",
      f"{_KV}/vaults/certificatecontacts/write"]),
    ("Key Vault Certificate User", CERTIFICATE_USER,
     "Read certificate contents." + _RBAC_ONLY, [],
     [f"{_KV}/vaults/certificates/read", f"{_KV}/vaults/secrets/getSecret/action",
      f"{_KV}/vaults/secrets/readMetadata/action", f"{_KV}/vaults/keys/read"]),
    ("Key Vault Contributor", CONTRIBUTOR,
     "Lets you manage key vaults, but not access to them.",
     ["Microsoft.Authorization/*/read", "Microsoft.Insights/alertRules/*", f"{_KV}/*",
      "Microsoft.Resources/deployments/*",
      "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Support/*"], []),
    ("Key Vault Crypto Officer", CRYPTO_OFFICER,
     "Perform any action on the keys of a key vault, except manage permissions." + _RBAC_ONLY,
     _READS, [f"{_KV}/vaults/keys/*", f"{_KV}/vaults/keyrotationpolicies/*"]),
    ("Key Vault Crypto User", CRYPTO_USER,
     "Perform cryptographic operations using keys." + _RBAC_ONLY, [],
     [f"{_KV}/vaults/keys/{op}" for op in (
         "read", "update/action", "backup/action", "encrypt/action", "decrypt/action",
         "wrap/action", "unwrap/action", "sign/action", "verify/action")]),
    ("Key Vault Reader", READER,
     "Read metadata of key vaults and its certificates, keys, and secrets. Cannot read "
     "sensitive values such as secret contents or key material." + _RBAC_ONLY, _READS,
     [f"{_KV}/vaults/*/read", f"{_KV}/vaults/secrets/readMetadata/action"]),
    ("Key Vault Secrets Officer", SECRETS_OFFICER,
     "Perform any action on the secrets of a key vault, except manage permissions."
     + _RBAC_ONLY, _READS, [f"{_KV}/vaults/secrets/*"]),
    ("Key Vault Secrets User", SECRETS_USER,
     "Read secret contents." + _RBAC_ONLY, [],
     [f"{_KV}/vaults/secrets/getSecret/action", f"{_KV}/vaults/secrets/readMetadata/action"]),
)  # fmt: skip

# Management-plane groupings for arm.rbac (which knows roles by GUID, not by action).
VAULT_READERS = frozenset(
    {ADMINISTRATOR, CERTIFICATES_OFFICER, CONTRIBUTOR, CRYPTO_OFFICER, READER, SECRETS_OFFICER}
)
VAULT_WRITERS = frozenset({CONTRIBUTOR})


@cache
def _pattern(action: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(p) for p in action.split("*")), re.IGNORECASE)


def grants(patterns: list[str], action: str) -> bool:
    """Whether any of a role's (data) action patterns covers ``action``."""
    return any(_pattern(p).fullmatch(action) for p in patterns)
