"""Live registry → spec document, so an existing registry can be adopted as it is.

The spec written is the one ``plan`` finds in sync: the registry's settings, and as
signers every principal holding a built-in Acr* role at the registry scope itself
(inherited assignments belong to whoever manages the parent scope). A service
principal is named by appId when Graph knows it, anything else by objectId. With a data
plane, ``images`` lists every tag with its signed state (``sign: true`` for the tags
whose trust data signs them), so adopting a registry keeps its signed tags signed rather
than planning their signatures away.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from acr_reconcile.azure.clients import AzureSession
from acr_reconcile.azure.graph import GraphClient
from acr_reconcile.errors import ConfigError
from acr_reconcile.live import arm
from acr_reconcile.live.dct import DctInventory, DctReading, dct_inventory
from acr_reconcile.live.state import (
    APPLIED_TAG,
    LiveRegistry,
    LiveResourceGroup,
    LiveRoleAssignment,
    LiveTag,
    TagTrust,
)
from acr_reconcile.notation.manifest import is_referrer_tag
from acr_reconcile.spec.models import API_VERSION, KIND, ImageSpec
from acr_reconcile.spec.roles import builtin_role_name


def _registry(session: AzureSession, sub: str, group: str, name: str) -> LiveRegistry:
    registry = arm.list_registries(session, sub).get(name.lower())
    if registry is None or registry.resource_group.lower() != group.lower():
        where = f"/subscriptions/{sub}/resourceGroups/{group}"
        raise ConfigError(f"{where}: no registry named {name} in this resource group")
    return registry


def _group(session: AzureSession, sub: str, name: str) -> LiveResourceGroup:
    group = arm.list_resource_groups(session, sub).get(name.lower())
    if group is None:
        raise ConfigError(f"/subscriptions/{sub}/resourceGroups/{name}: no such resource group")
    return group


def _acr_roles_at(
    assignments: tuple[LiveRoleAssignment, ...], scope: str
) -> dict[str, list[LiveRoleAssignment]]:
    by_principal: dict[str, list[LiveRoleAssignment]] = defaultdict(list)
    for assignment in assignments:
        role = builtin_role_name(assignment.role_definition_guid) or ""
        same_scope = assignment.scope.rstrip("/").lower() == scope.rstrip("/").lower()
        if same_scope and role.startswith("Acr"):
            by_principal[assignment.principal_id].append(assignment)
    return by_principal


def _signer(graph: GraphClient, object_id: str, held: list[LiveRoleAssignment]) -> Any:
    principal_type = held[0].principal_type or "ServicePrincipal"
    found = graph.by_object_id(object_id, principal_type)
    reference: dict[str, str] = {"objectId": object_id}
    if found is not None and found.app_id and principal_type == "ServicePrincipal":
        reference = {"appId": found.app_id}
    roles = sorted({builtin_role_name(a.role_definition_guid) or "" for a in held})
    return {
        "name": (found.display_name if found else "") or object_id,
        "principal": reference,
        "principalType": principal_type,
        "roles": roles,
    }


def _unique_names(signers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, int] = defaultdict(int)
    for signer in signers:
        seen[signer["name"]] += 1
        if seen[signer["name"]] > 1:
            signer["name"] = f"{signer['name']}-{seen[signer['name']]}"
    return signers


if TYPE_CHECKING:
    from acr_reconcile.live.images import DataPlane

# reads every tag of every repository of a registry, with its trust state
TagReader = Callable[[LiveRegistry], list[LiveTag]]
_SIGNED = {TagTrust.SIGNED, TagTrust.STALE}  # stale: signed, for another digest: re-sign


def read_all_tags(data_plane: DataPlane) -> TagReader:
    """A TagReader over the data plane: the catalog, each repository's tags, and one
    verified trust read per repository (invalid trust data is an error, not unsigned)."""

    def read(registry: LiveRegistry) -> list[LiveTag]:
        client = data_plane.registry(registry.login_server)
        found: list[LiveTag] = []
        for repository in sorted(client.catalog()):
            # sha256-<hex> tags index signatures (referrers tag schema): not image tags
            tags = sorted(t for t in client.tags(repository) if not is_referrer_tag(t))
            if tags:
                live, _ = data_plane.read(registry, [ImageSpec(repository=repository, tags=tags)])
                found += [live[(repository, tag)] for tag in tags]
        return found

    return read


def _images(tags: list[LiveTag]) -> list[dict[str, Any]]:
    """One entry per repository and signed state, in catalog order."""
    grouped: dict[tuple[str, bool], list[str]] = defaultdict(list)
    for tag in tags:
        if tag.trust is TagTrust.INVALID:
            raise ConfigError(
                f"{tag.repository}: its trust data fails verification; investigate before "
                "adopting the registry (it may have been tampered with)"
            )
        grouped[(tag.repository, tag.trust in _SIGNED)].append(tag.tag)
    return [
        {"repository": repository, "tags": names, "sign": sign}
        for (repository, sign), names in grouped.items()
    ]


def export_spec(
    session: AzureSession,
    graph: GraphClient,
    subscription: str,
    group: str,
    name: str,
    tags: TagReader | None = None,
    migrate_to: tuple[Callable[[LiveRegistry], DctReading], dict[str, str]] | None = None,
) -> dict[str, Any]:
    """The spec document (as plain data, YAML field names) of one live registry; with
    ``migrate_to`` (a DCT reader and the Key Vault signing key), its migration document
    to Notation (see ``notation_migration_spec``)."""
    registry = _registry(session, subscription, group, name)
    if migrate_to is not None and registry.trust_status != "enabled":
        raise ConfigError(
            f"{registry.id}: content trust is not enabled on this registry; there is no "
            "Docker Content Trust to migrate (export without --to)"
        )
    resource_group = _group(session, subscription, registry.resource_group)
    assignments = arm.list_role_assignments(session, subscription)
    holders = _acr_roles_at(assignments, registry.id)
    signers = [_signer(graph, oid, held) for oid, held in sorted(holders.items())]
    document = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "subscriptionId": subscription,
        "resourceGroup": {
            "name": resource_group.name,
            "location": resource_group.location,
            "tags": dict(resource_group.tags),
        },
        "registry": {
            "name": registry.name,
            "sku": registry.sku,
            "contentTrust": registry.trust_status,
            "adminUserEnabled": registry.admin_user_enabled,
            "tags": {k: v for k, v in registry.tags.items() if k != APPLIED_TAG},
        },
        "signers": _unique_names(signers),
        "roleAssignments": {"prune": False},
        **({"images": _images(tags(registry))} if tags is not None else {}),
    }
    if migrate_to is None:
        return document
    read, signing_key = migrate_to
    return notation_migration_spec(document, dct_inventory(read(registry)), signing_key)


def to_yaml(document: dict[str, Any]) -> str:
    import yaml

    header = (
        "# Exported from live state by `acr-reconcile export`; `plan` on it shows no changes.\n"
    )
    if "notation" in document and document["registry"].get("contentTrust") == "disabled":
        header = (
            "# Migration from Docker Content Trust to Notation, written by `acr-reconcile "
            "export --to notation`:\n# every tag DCT signs validly is listed with sign: true; "
            "see docs/migrating-from-dct.md.\n"
        )
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def notation_migration_spec(
    document: dict[str, Any],
    inventory: DctInventory,
    signing_key: dict[str, str],
) -> dict[str, Any]:
    """The migration document of an exported DCT registry: the same document with
    ``contentTrust: disabled``, a ``notation`` block signing with ``signing_key`` (the Key
    Vault's name, certificate and subject), and as ``images`` every tag the DCT inventory
    carries, ``sign: true``. Tags DCT does not validly sign are left out: the migration
    signs what DCT vouched for, and nothing else."""
    migrated = {k: v for k, v in document.items() if k != "images"}
    migrated["registry"] = {**document["registry"], "contentTrust": "disabled"}
    migrated["notation"] = {"signingKey": {"keyVault": dict(signing_key)}}
    by_repository: dict[str, list[str]] = defaultdict(list)
    for entry in inventory.entries:
        if entry.tag not in by_repository[entry.repository]:
            by_repository[entry.repository].append(entry.tag)
    migrated["images"] = [
        {"repository": repository, "tags": sorted(tags), "sign": True}
        for repository, tags in sorted(by_repository.items())
    ]
    return migrated
