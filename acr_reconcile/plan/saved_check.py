"""What a saved plan may do: exactly what its documents plan against live state, inside
the registries those documents name.

A plan file travels between pipeline stages and anyone who can edit it can edit every
byte, its digests included, so apply trusts none of it but the documents: it plans them
again against the live state it re-reads and refuses unless the saved changes are that
plan, change for change (:func:`unexpected_changes`). Independently of any plan, every
change must stay inside a document's resource group and registry, and a role assignment
it creates must be for a principal and role its document lists (:func:`out_of_bounds`);
with ``apply FILE --spec PATH`` the documents must also be the applying branch's
(:func:`documents_differ`). A refused plan changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from acr_reconcile.plan.codec import params_to_dict
from acr_reconcile.plan.model import Action, Change, Kind, Plan, RoleAssignmentParams
from acr_reconcile.plan.names import target_key
from acr_reconcile.spec.document import SpecDocument
from acr_reconcile.spec.fleet import signing_vault, vault_place
from acr_reconcile.spec.roles import KEY_VAULT_ROLES, builtin_role_name, role_definition_guid

_REGISTRIES = "/providers/microsoft.containerregistry/registries/"
_ASSIGNMENTS = "/providers/microsoft.authorization/roleassignments/"
_VAULTS = "/providers/microsoft.keyvault/vaults/"
SHOWN = 5  # differences listed in a refusal; the rest are counted


def _acted_on(change: Change) -> dict[str, Any]:
    """What the executor acts upon: everything else of a change is only displayed."""
    return {
        "kind": change.kind.value,
        "action": change.action.value,
        "resource_id": change.resource_id.lower(),
        "target": change.target,
        "depends_on": sorted(change.depends_on),
        "params": params_to_dict(change.params),
    }


def _pending(plan: Plan) -> dict[str, dict[str, Any]]:
    return {c.address: _acted_on(c) for c in plan.changes if c.is_change}


def unexpected_changes(saved: Plan, fresh: Plan) -> list[str]:
    """How the saved plan's pending changes differ from the plan made again now."""
    mine, theirs = _pending(fresh), _pending(saved)
    found = [f"{a}: in the file, but its documents do not plan it" for a in theirs.keys() - mine]
    found += [
        f"{a}: planned from its documents, missing from the file" for a in mine.keys() - theirs
    ]
    for address in sorted(mine.keys() & theirs.keys()):
        ours, filed = mine[address], theirs[address]
        fields = [k for k in ours if ours[k] != filed[k]]
        if fields:
            found.append(
                f"{address}: the file's {', '.join(fields)} differ from its documents' plan"
            )
    return sorted(found)


def _registry_id(doc: SpecDocument) -> str:
    spec = doc.spec
    return (
        f"/subscriptions/{spec.subscription_id}/resourcegroups/{spec.resource_group.name}"
        f"{_REGISTRIES}{spec.registry.name}"
    ).lower()


def _vault(doc: SpecDocument) -> tuple[str, str] | None:
    """(resource group, name) of the document's signing vault, lower case, if any."""
    vault = signing_vault(doc)
    if vault is None:
        return None
    return vault_place(doc, vault)[1], vault.name.lower()


def _vault_id(doc: SpecDocument) -> str | None:
    place = _vault(doc)
    if place is None:
        return None
    group, name = place
    return (
        f"/subscriptions/{doc.spec.subscription_id}/resourcegroups/{group}{_VAULTS}{name}".lower()
    )


def _in_document(change: Change, doc: SpecDocument) -> bool:
    """Whether the change's resource is the document's resource group, registry or vault."""
    params = change.params
    spec = doc.spec
    if str(getattr(params, "subscription_id", "")).lower() != spec.subscription_id.lower():
        return False
    group = str(getattr(params, "resource_group", "")).lower()
    vault = getattr(params, "vault", None)
    if vault is not None:
        return (group, str(vault).lower()) == _vault(doc)
    if group != spec.resource_group.name.lower():
        return False
    registry = getattr(params, "registry", None)
    return registry is None or str(registry).lower() == spec.registry.name.lower()


def _listed_roles(doc: SpecDocument) -> set[str]:
    return {role_definition_guid(r) for s in doc.spec.signers for r in s.roles}


def _assignment_problem(change: Change, doc: SpecDocument, principals: set[str]) -> str | None:
    params = change.params
    assert isinstance(params, RoleAssignmentParams)
    scopes = {s for s in (_registry_id(doc), _vault_id(doc)) if s}
    scope = params.scope.rstrip("/").lower()
    if scope not in scopes:
        return f"assigns at {params.scope}, not at its document's registry or signing vault"
    if not change.resource_id.lower().startswith(scope + _ASSIGNMENTS):
        return f"names {change.resource_id}, not an assignment at {params.scope}"
    if change.action is not Action.CREATE:
        return None
    guid = params.role_definition_guid.lower()
    caller_role = params.for_caller and scope == _vault_id(doc)
    if caller_role and builtin_role_name(guid) not in KEY_VAULT_ROLES:
        return f"grants role {guid} on the vault, not a Key Vault role the tool needs"
    if not caller_role and guid not in _listed_roles(doc):
        return f"grants role {guid}, which its document does not list"
    if not caller_role and principals and params.principal_id.lower() not in principals:
        return f"grants to principal {params.principal_id}, whom its document does not list"
    return None


def out_of_bounds(
    plan: Plan, documents: Sequence[SpecDocument], principals: Iterable[str] = ()
) -> list[str]:
    """Changes outside what the documents can ask for, whatever produced the plan.

    Each change belongs to the document of its ``target`` and must be that document's
    resource group, registry or signing vault. ``principals`` are the object ids the
    documents' signers resolved to (empty: the principal is not checked here, the re-plan
    comparison covers it). The identity running apply's own Key Vault roles on the vault
    (``for_caller``) are the one grant no document lists; apply checks who that is.
    """
    known = {p.lower() for p in principals}
    by_target = {target_key(d.spec.subscription_id, d.spec.registry.name): d for d in documents}
    found: list[str] = []
    for change in plan.changes:
        if not change.is_change:
            continue
        doc = by_target.get(change.target.lower())
        if doc is None or not _in_document(change, doc):
            found.append(f"{change.address}: outside every document's resource group and registry")
            continue
        if change.kind is Kind.ROLE_ASSIGNMENT:
            problem = _assignment_problem(change, doc, known)
            if problem:
                found.append(f"{change.address}: {problem}")
    return found


def _canonical(doc: SpecDocument) -> str:
    return json.dumps(doc.spec.model_dump(mode="json", by_alias=True), sort_keys=True)


def documents_differ(stored: Sequence[SpecDocument], branch: Sequence[SpecDocument]) -> list[str]:
    """How the plan file's documents differ from the spec files of the applying branch."""

    def key(doc: SpecDocument) -> str:
        return _registry_id(doc)

    ours = {key(d): d for d in branch}
    filed = {key(d): d for d in stored}
    found = [
        f"{filed[k].file}: {k} is in the plan file, not in the given spec"
        for k in filed.keys() - ours
    ]
    found += [
        f"{ours[k].file}: {k} is in the given spec, not in the plan file"
        for k in ours.keys() - filed
    ]
    for k in sorted(ours.keys() & filed.keys()):
        if _canonical(ours[k]) != _canonical(filed[k]):
            found.append(f"{ours[k].file}: the document for {k} differs from the plan file's")
    return sorted(found)


def summary(problems: Sequence[str]) -> list[str]:
    """At most ``SHOWN`` problems, then how many more."""
    shown = list(problems[:SHOWN])
    if len(problems) > SHOWN:
        shown.append(f"… and {len(problems) - SHOWN} more")
    return shown
