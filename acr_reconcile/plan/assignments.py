"""Signer role assignments at the registry scope: create, adopt, prune.

The spec manages assignments AT the registry scope only. One with the same scope,
principal and role is adopted whatever its name (a random name from the portal or another
tool is fine), so nothing is duplicated and no 409 follows. Inherited assignments (resource
group, subscription) are noted, never counted as present and never pruned. Prune is limited
to the roles this spec names and never removes the caller's own access.
"""

from __future__ import annotations

from dataclasses import dataclass

from acr_reconcile.live.state import LivePrincipal, LiveRoleAssignment, ResolutionStatus
from acr_reconcile.plan import names
from acr_reconcile.plan.context import DocumentContext
from acr_reconcile.plan.diffing import attribute_diff
from acr_reconcile.plan.model import Action, Change, Kind, Reason, RoleAssignmentParams
from acr_reconcile.plan.rules import ABAC_MODE
from acr_reconcile.spec.models import SignerSpec
from acr_reconcile.spec.roles import builtin_role_name, is_key_vault_role, role_definition_guid

DEPRECATED_ROLES = {"6cef56e8-d556-48e5-a04f-b8e64114680f": "AcrImageSigner"}
# In ABAC repository-permissions mode these registry-wide roles are not honoured.
ABAC_REPLACEMENTS = {
    "7f951dda-4ed3-4680-a7ca-43fe172d538d": (
        "AcrPull",
        "Container Registry Repository Reader and Container Registry Repository Catalog Lister",
    ),
    "8311e382-0749-4cb8-b61a-304f252e45ec": ("AcrPush", "Container Registry Repository Writer"),
    "c2f4ef07-c644-48eb-af81-4b1b4947fb11": (
        "AcrDelete",
        "Container Registry Repository Contributor",
    ),
}


@dataclass(frozen=True)
class Wanted:
    signer: str
    path: str  # spec path of the role entry
    principal: LivePrincipal
    role_guid: str


def _role_label(guid: str) -> str:
    return builtin_role_name(guid) or guid


def _ref_text(signer: SignerSpec) -> str:
    kind, value = signer.principal.key
    return f"{kind} {value}"


def resolve_signer(ctx: DocumentContext, index: int, signer: SignerSpec) -> LivePrincipal | None:
    """The signer's directory object, or None after reporting why it cannot be used."""
    path = f"signers.{index}.principal"
    kind, value = signer.principal.key
    found = ctx.live.principals.get((kind, value))
    if found is None and kind == "objectId":
        # not looked up: trust the spec, Azure checks the id when the assignment is made
        return LivePrincipal(value, None, signer.name, signer.principal_type.value)
    if found is None or found.status is ResolutionStatus.NOT_FOUND or found.principal is None:
        if found is not None and found.status is ResolutionStatus.AMBIGUOUS:
            shown = ", ".join(
                f"{c.display_name} ({c.principal_type} {c.object_id})" for c in found.candidates
            )
            message = (
                f"signer {signer.name}: {_ref_text(signer)} matches several principals: "
                f"{shown}; name it by objectId or appId"
            )
            ctx.error(ctx.registry_id, message, path, "principal-ambiguous")
            return None
        message = f"signer {signer.name}: no principal with {_ref_text(signer)} in the directory"
        ctx.error(ctx.registry_id, message, path, "principal-not-found")
        return None
    if found.principal.principal_type != signer.principal_type.value:
        ctx.error(
            ctx.registry_id,
            f"signer {signer.name}: principalType is {signer.principal_type.value} in the spec, "
            f"but the directory has {_ref_text(signer)} as a {found.principal.principal_type} "
            f"({found.principal.display_name}, object id {found.principal.object_id}); set "
            f"principalType: {found.principal.principal_type}",
            f"signers.{index}.principalType",
            "principal-type-mismatch",
        )
        return None
    return found.principal


def _check_role(ctx: DocumentContext, signer: str, guid: str, path: str) -> None:
    """Roles Azure deprecates, or ignores in the registry's permission mode, are warned about."""
    if guid in DEPRECATED_ROLES:
        ctx.warn(
            ctx.registry_id,
            f"signer {signer}: {DEPRECATED_ROLES[guid]} is deprecated by Azure and "
            f"removed with Docker Content Trust on {ctx.rules.trust_removal.isoformat()}",
            path,
            "deprecated-role",
        )
    abac = ctx.data is not None and ctx.data.registry.role_assignment_mode == ABAC_MODE
    if abac and guid in ABAC_REPLACEMENTS:
        role, instead = ABAC_REPLACEMENTS[guid]
        ctx.warn(
            ctx.registry_id,
            f"signer {signer}: {role} is not honoured on a registry in ABAC repository-permissions "
            f"mode; use {instead}",
            path,
            "role-not-honoured-in-abac",
        )


def _wanted(ctx: DocumentContext) -> tuple[list[Wanted], set[str]]:
    """Desired (principal, role) pairs and the set of role GUIDs this spec manages."""
    wanted: list[Wanted] = []
    managed: set[str] = set()
    for i, signer in enumerate(ctx.doc.spec.signers):
        principal = resolve_signer(ctx, i, signer)
        for j, role in enumerate(signer.roles):
            if is_key_vault_role(role):
                continue  # assigned on the signing vault (plan/vault_roles.py)
            path = f"signers.{i}.roles.{j}"
            try:
                guid = names.role_guid_of(role_definition_guid(role))
            except KeyError:
                message = f"signer {signer.name}: unknown role {role!r}; use a built-in name"
                ctx.error(ctx.registry_id, message + " or {roleDefinitionId: GUID}", path, "role")
                continue
            managed.add(guid)
            _check_role(ctx, signer.name, guid, path)
            if principal is not None:
                wanted.append(Wanted(signer.name, path, principal, guid))
    return wanted, managed


def _split(ctx: DocumentContext) -> tuple[list[LiveRoleAssignment], list[LiveRoleAssignment]]:
    """Live assignments at the registry scope, and those inherited from a parent scope."""
    if ctx.data is None:
        return [], []
    scope = ctx.registry_id.lower()
    here = [a for a in ctx.data.role_assignments if a.scope.lower() == scope]
    above = [
        a
        for a in ctx.data.role_assignments
        if a.scope.lower() != scope and scope.startswith(a.scope.lower().rstrip("/") + "/")
    ]
    return here, above


def _change(
    ctx: DocumentContext, want: Wanted, existing: LiveRoleAssignment | None, reason: Reason
) -> Change:
    scope = ctx.registry_id
    oid = want.principal.object_id.lower()
    det_name = names.role_assignment_name(scope, oid, want.role_guid)
    name = existing.name if existing else det_name
    action = Action.NOOP if existing else Action.CREATE
    role = _role_label(want.role_guid)
    state = {"principalId": oid, "roleDefinition": role, "scope": scope}
    return Change(
        address=names.role_assignment_address(scope, oid, want.role_guid),
        kind=Kind.ROLE_ASSIGNMENT,
        action=action,
        reason=reason,
        resource_id=names.role_assignment_id(scope, name),
        summary=f"role {role} for {want.signer} ({oid}) on {ctx.registry_name}",
        before=state if existing else None,
        after=state,
        diff=() if existing else attribute_diff(None, state),
        depends_on=(names.registry_address(ctx.subscription, ctx.registry_name),),
        spec_location=ctx.where(want.path),
        params=RoleAssignmentParams(
            subscription_id=ctx.subscription,
            resource_group=ctx.resource_group,
            registry=ctx.registry_name,
            scope=scope,
            name=name,
            principal_id=oid,
            principal_type=want.principal.principal_type,
            role_definition_guid=want.role_guid,
            role_definition_id=names.role_definition_id(ctx.subscription, want.role_guid),
        ),
        target=ctx.target,
    )


def principal_label(ctx: DocumentContext, object_id: str, principal_type: str) -> str:
    """Whom an assignment grants, as a reader recognises it: type, display name and object
    id from the directory; the id alone when the directory had none, or when it could not
    be read (a name only labels the change: the prune is planned either way)."""
    oid = object_id.lower()
    for resolution in ctx.live.principals.values():
        found = resolution.principal
        if found is not None and found.object_id.lower() == oid:
            return f"{found.principal_type} {found.display_name} ({oid})"
    named = ctx.live.directory.get(oid)
    if named is not None:
        return f"{named.principal_type} {named.display_name} ({oid})"
    if not ctx.live.directory_read:
        return f"{principal_type} {oid} (no name: the directory could not be read)"
    return f"{principal_type} {oid} (not found in the directory)"


def prune_assignment(ctx: DocumentContext, live: LiveRoleAssignment) -> Change | None:
    role = _role_label(live.role_definition_guid)
    caller = (ctx.live.caller_object_id or "").lower()
    if live.principal_id.lower() == caller:
        ctx.warn(
            live.id,
            f"not pruning role {role} of {live.principal_id}: it is the identity running this "
            "plan, and removing it would lock the tool out; remove it by hand if meant",
            "roleAssignments.prune",
            "prune-skips-caller",
        )
        return None
    state = {"principalId": live.principal_id, "roleDefinition": role, "scope": live.scope}
    return Change(
        address=names.role_assignment_address(
            live.scope, live.principal_id, live.role_definition_guid
        ),
        kind=Kind.ROLE_ASSIGNMENT,
        action=Action.DELETE,
        reason=Reason.PRUNE,
        resource_id=live.id,
        summary=(
            f"role {role} for {principal_label(ctx, live.principal_id, live.principal_type)} "
            f"on {ctx.registry_name}"
        ),
        before=state,
        after=None,
        diff=attribute_diff(state, None),
        depends_on=(names.registry_address(ctx.subscription, ctx.registry_name),),
        spec_location=ctx.where("roleAssignments.prune"),
        params=RoleAssignmentParams(
            subscription_id=ctx.subscription,
            resource_group=ctx.resource_group,
            registry=ctx.registry_name,
            scope=live.scope,
            name=live.name,
            principal_id=live.principal_id,
            principal_type=live.principal_type,
            role_definition_guid=live.role_definition_guid,
        ),
        target=ctx.target,
    )


def plan_role_assignments(ctx: DocumentContext) -> None:
    wanted, managed = _wanted(ctx)
    here, above = _split(ctx)
    by_pair = {(a.principal_id.lower(), a.role_definition_guid.lower()): a for a in here}
    pairs: set[tuple[str, str]] = set()
    for want in wanted:
        pair = (want.principal.object_id.lower(), want.role_guid)
        if pair in pairs:
            continue
        pairs.add(pair)
        existing = by_pair.get(pair)
        if existing is None:
            ctx.add(_change(ctx, want, None, ctx.absent_reason()))
            _note_inherited(ctx, want, above)
            continue
        det = names.role_assignment_name(ctx.registry_id, pair[0], pair[1])
        ctx.add(
            _change(ctx, want, existing, Reason.IN_SYNC if existing.name == det else Reason.ADOPTED)
        )
    if not ctx.doc.spec.role_assignments.prune:
        return
    for live in sorted(here, key=lambda a: (a.role_definition_guid, a.principal_id, a.name)):
        pair = (live.principal_id.lower(), live.role_definition_guid.lower())
        if pair[1] in managed and pair not in pairs:
            change = prune_assignment(ctx, live)
            if change is not None:
                ctx.add(change)


def _note_inherited(ctx: DocumentContext, want: Wanted, above: list[LiveRoleAssignment]) -> None:
    pair = (want.principal.object_id.lower(), want.role_guid)
    for live in above:
        if (live.principal_id.lower(), live.role_definition_guid.lower()) == pair:
            ctx.note(
                live.id,
                f"{want.signer} already holds {_role_label(want.role_guid)} inherited from "
                f"{live.scope}; this spec manages assignments at the registry scope, so it is "
                "still created there",
                want.path,
                "inherited-assignment",
            )
