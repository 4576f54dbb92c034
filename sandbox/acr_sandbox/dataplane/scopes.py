"""From role assignments to the ``access`` claim of a backend token.

One token serves both backends (same ``service``), so each requested repository scope
yields two entries: the repository path for docker-registry and the full GUN
(``<loginServer>/<repo>``) for notary-server. Their actions differ, as on ACR:

- registry: AcrPull → pull; AcrPush → pull, push; AcrDelete → delete; ACR's metadata
  API adds metadata_read (all three) and metadata_write (AcrPush);
  Owner/Contributor → everything (``*``); AcrImageSigner alone → nothing.
- trust data: reading needs pull rights. Publishing needs AcrImageSigner *and* push
  rights (AcrPush, or Owner/Contributor which include signing); a signer then also gets
  ``*`` on its GUN, which the notary CLI asks for to rotate a key to the server
  (``key rotate … -r``) and to delete trust data (``delete --remote``).

The grant is the intersection of what was asked and what the roles allow; a ``*``
allowed covers any action asked, a ``*`` asked is granted only where ``*`` is allowed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
ACR_PUSH = "8311e382-0749-4cb8-b61a-304f252e45ec"
ACR_IMAGE_SIGNER = "6cef56e8-d556-48e5-a04f-b8e64114680f"
ACR_DELETE = "c2f4ef07-c644-48eb-af81-4b1b4947fb11"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"

_REGISTRY_ACTIONS: dict[str, frozenset[str]] = {
    # metadata_read/metadata_write: ACR's metadata API (/acr/v1: list, properties, PATCH)
    ACR_PULL: frozenset({"pull", "metadata_read"}),
    ACR_PUSH: frozenset({"pull", "push", "metadata_read", "metadata_write"}),
    ACR_DELETE: frozenset({"delete", "metadata_read"}),
    OWNER: frozenset({"*"}),
    CONTRIBUTOR: frozenset({"*"}),
}


@dataclass(frozen=True)
class Scope:
    type: str
    name: str
    actions: frozenset[str]


def parse_scopes(values: Iterable[str]) -> list[Scope]:
    """Scopes from repeated ``scope`` parameters, each possibly space-separated.

    The name sits between the first and the last colon, since GUNs carry ``host:port``.
    Malformed entries are ignored (a token with less access, never an error).
    """
    scopes: list[Scope] = []
    for value in values:
        for item in value.split():
            first, last = item.find(":"), item.rfind(":")
            if first <= 0 or last == first:
                continue
            actions = frozenset(a for a in item[last + 1 :].split(",") if a)
            name = item[first + 1 : last]
            if name and actions:
                scopes.append(Scope(item[:first], name, actions))
    return scopes


def registry_actions(roles: frozenset[str]) -> frozenset[str]:
    allowed: set[str] = set()
    for role in roles:
        allowed |= _REGISTRY_ACTIONS.get(role.lower(), frozenset())
    return frozenset(allowed)


def trust_actions(roles: frozenset[str]) -> frozenset[str]:
    lowered = {r.lower() for r in roles}
    if lowered & {OWNER, CONTRIBUTOR}:
        return frozenset({"*"})
    reg = registry_actions(frozenset(lowered))
    allowed = {"pull"} if "pull" in reg or "*" in reg else set()
    if ACR_IMAGE_SIGNER in lowered and ("push" in reg or "*" in reg):
        allowed |= {"pull", "push", "*"}
    return frozenset(allowed)


def intersect(requested: frozenset[str], allowed: frozenset[str]) -> list[str]:
    if "*" in allowed:
        return sorted(requested)
    return sorted(requested & allowed)


def _repository_of(name: str, login_server: str) -> str | None:
    prefix = login_server + "/"
    if name.startswith(prefix):
        name = name[len(prefix) :]
    # A name still holding a colon is another host's GUN: not this registry's to grant.
    return None if ":" in name or not name else name


def grant(scopes: list[Scope], roles: frozenset[str], login_server: str) -> list[dict[str, Any]]:
    """The ``access`` claim for ``scopes`` given the caller's ``roles`` on this registry."""
    reg_allowed, trust_allowed = registry_actions(roles), trust_actions(roles)
    access: list[dict[str, Any]] = []
    for scope in scopes:
        if scope.type == "registry" and scope.name == "catalog":
            actions = intersect(scope.actions, frozenset({"*"}) if reg_allowed else frozenset())
            if actions:
                access.append({"type": "registry", "name": "catalog", "actions": actions})
            continue
        if scope.type != "repository":
            continue
        repo = _repository_of(scope.name, login_server)
        if repo is None:
            continue
        for name, allowed in ((repo, reg_allowed), (f"{login_server}/{repo}", trust_allowed)):
            actions = intersect(scope.actions, allowed)
            if actions:
                access.append({"type": "repository", "name": name, "actions": actions})
    return access
