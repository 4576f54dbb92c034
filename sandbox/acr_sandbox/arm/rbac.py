"""ARM's authorization check: the caller needs a role at the request's scope or above
whose permissions cover the action (Owner: everything; Contributor: everything but role
assignment writes; User Access Administrator: reads and role assignments; Reader: reads).
Data-plane roles (AcrPush, AcrImageSigner …) grant no ARM action, as in Azure.
"""

from __future__ import annotations

import re
from typing import Any

from acr_sandbox.arm.errors import ArmError
from acr_sandbox.context import Sandbox
from acr_sandbox.directory import role_guids
from acr_sandbox.keyvault.roles import VAULT_READERS, VAULT_WRITERS

OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
USER_ACCESS_ADMINISTRATOR = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
READERS = frozenset({OWNER, CONTRIBUTOR, READER, USER_ACCESS_ADMINISTRATOR})
WRITERS = frozenset({OWNER, CONTRIBUTOR})
ASSIGNERS = frozenset({OWNER, USER_ACCESS_ADMINISTRATOR})

_AUTHZ = re.compile(r"^(?P<scope>.*?)/providers/Microsoft\.Authorization/(?P<kind>role\w+)", re.I)
_REGISTRY = re.compile(
    r"^(/subscriptions/[^/]+/resourcegroups/[^/]+/providers/Microsoft\.ContainerRegistry/"
    r"registries/[^/]+)(?P<rest>/.*)?$",
    re.I,
)
_KEYVAULT = re.compile(
    r"^(?P<scope>/subscriptions/[^/]+(/resourcegroups/[^/]+)?)/providers/Microsoft\.KeyVault/"
    r"(?P<rest>.*)$",
    re.I,
)
_GROUP = re.compile(r"^(/subscriptions/[^/]+/resourcegroups/[^/]+)(?:/resources)?/?$", re.I)
_SUBSCRIPTION = re.compile(r"^(/subscriptions/[^/]+)", re.I)
_VERBS = {"GET": "read", "HEAD": "read", "DELETE": "delete"}


def required(method: str, path: str) -> tuple[str, str, frozenset[str]] | None:
    """(scope, action, roles that allow it) for an ARM request; None: no check."""
    verb = _VERBS.get(method, "write")
    if match := _AUTHZ.match(path):
        kind = match["kind"]
        action = f"Microsoft.Authorization/{kind}/{verb}"
        allowed = READERS if verb == "read" else ASSIGNERS
        return match["scope"] or "/", action, allowed
    if match := _KEYVAULT.match(path):
        return _keyvault(verb, match["scope"], match["rest"])
    if match := _REGISTRY.match(path):
        rest = (match["rest"] or "").lower()
        if "/operationstatuses/" in rest or "/operationresults/" in rest:
            verb = "read"
        action = "Microsoft.ContainerRegistry/registries/" + (
            "importImage/action" if rest.endswith("/importimage") else verb
        )
        return match[1], action, READERS if verb == "read" else WRITERS
    if path.lower().endswith("/checknameavailability"):
        scope = _SUBSCRIPTION.match(path)
        action = "Microsoft.ContainerRegistry/checkNameAvailability/read"
        return (scope[1] if scope else "/"), action, READERS
    if match := _GROUP.match(path):
        action = f"Microsoft.Resources/subscriptions/resourceGroups/{verb}"
        return match[1], action, READERS if verb == "read" else WRITERS
    if match := _SUBSCRIPTION.match(path):
        if "/operationresults/" in path.lower():
            verb = "read"
        return (
            match[1],
            f"Microsoft.Resources/subscriptions/{verb}",
            (READERS if verb == "read" else WRITERS),
        )
    return None


def _keyvault(verb: str, scope: str, rest: str) -> tuple[str, str, frozenset[str]]:
    """Microsoft.KeyVault actions; the Key Vault roles that hold them count too."""
    parts = rest.rstrip("/").split("/")
    kind = parts[0].lower()
    readers, writers = READERS | VAULT_READERS, WRITERS | VAULT_WRITERS
    if kind == "vaults" and len(parts) >= 2:
        scope = f"{scope}/providers/Microsoft.KeyVault/vaults/{parts[1]}"
        if len(parts) >= 3 and parts[2].lower() == "accesspolicies":
            return scope, "Microsoft.KeyVault/vaults/accessPolicies/write", writers
        return scope, f"Microsoft.KeyVault/vaults/{verb}", readers if verb == "read" else writers
    if kind == "vaults":
        return scope, "Microsoft.KeyVault/vaults/read", readers
    if kind == "locations" and parts[-1].lower() == "purge":
        return scope, "Microsoft.KeyVault/locations/deletedVaults/purge/action", WRITERS
    if kind == "checknameavailability":
        return scope, "Microsoft.KeyVault/checkNameAvailability/read", readers
    return scope, f"Microsoft.KeyVault/{kind}/read", readers


def authorize(sandbox: Sandbox, claims: dict[str, Any], method: str, path: str) -> None:
    if not sandbox.settings.get("enforceRbac", True):
        return
    need = required(method, path)
    if need is None:
        return
    scope, action, allowed = need
    object_id = str(claims.get("oid", ""))
    if role_guids(sandbox, object_id, scope) & allowed:
        return
    raise ArmError(
        403,
        "AuthorizationFailed",
        f"The client '{claims.get('appid', object_id)}' with object id '{object_id}' does not "
        f"have authorization to perform action '{action}' over scope '{scope}' or the scope "
        "is invalid. If access was recently granted, please refresh your credentials.",
    )
