"""Key Vault role assignments at the signing vault's scope.

Two sources: the signers' Key Vault roles (``Key Vault Crypto User``, ``Key Vault
Certificate User``, ...), assigned on the vault as the registry roles are on the registry
(UUIDv5 names, an equal assignment of any name adopted); and the roles the identity
running apply needs itself — Certificates Officer to create a missing certificate, Crypto
User and Certificate User to sign. Those are shown in the plan like any other change, so
nobody learns from a 403 in the middle of an apply what it needed.

An RBAC vault's creator gets no data-plane access (Owner and Contributor hold no data
actions), which is why the caller's roles are planned even for a vault this plan creates.
A role the caller already holds through a broader one (Administrator, an Officer role) or
from a parent scope counts as held: it only has to be able to act.
"""

from __future__ import annotations

from acr_reconcile.live.state import LiveKeyVaultData, LivePrincipal, LiveRoleAssignment
from acr_reconcile.plan import names
from acr_reconcile.plan.assignments import principal_label, resolve_signer
from acr_reconcile.plan.context import DocumentContext
from acr_reconcile.plan.diffing import attribute_diff
from acr_reconcile.plan.model import (
    Action,
    Change,
    KeyVaultParams,
    Kind,
    Reason,
    RoleAssignmentParams,
)
from acr_reconcile.spec.notation import KeyVaultKeySpec
from acr_reconcile.spec.roles import (
    BUILTIN_ROLES,
    builtin_role_name,
    is_key_vault_role,
    role_definition_guid,
)

ADMINISTRATOR = "00482a5a-887f-4fb3-b363-3b7fe8e74483"  # Key Vault Administrator
CRYPTO_OFFICER = "14b46e9e-c2b7-41b4-b07b-48a6ebf60603"  # Key Vault Crypto Officer
CRYPTO_USER = BUILTIN_ROLES["Key Vault Crypto User"]
CERTIFICATE_USER = BUILTIN_ROLES["Key Vault Certificate User"]
CERTIFICATES_OFFICER = BUILTIN_ROLES["Key Vault Certificates Officer"]
# a role, and the broader built-in roles whose data actions include all of its own
COVERED_BY = {
    CRYPTO_USER: {CRYPTO_USER, CRYPTO_OFFICER, ADMINISTRATOR},
    CERTIFICATE_USER: {CERTIFICATE_USER, CERTIFICATES_OFFICER, ADMINISTRATOR},
    CERTIFICATES_OFFICER: {CERTIFICATES_OFFICER, ADMINISTRATOR},
}
WHY = {
    CERTIFICATES_OFFICER: "to create the signing certificate",
    CRYPTO_USER: "to sign (keys/sign)",
    CERTIFICATE_USER: "to read the signing certificate",
}
CALLER_PATH = "notation.signingKey.keyVault.name"


def plan_vault_roles(
    ctx: DocumentContext,
    key: KeyVaultKeySpec,
    group: str,
    vault: Change,
    data: LiveKeyVaultData | None,
    creates_certificate: bool,
) -> list[Change]:
    """Plan the vault's role assignments; returns the caller's (created or held at the
    vault scope), on which the certificate create waits."""
    scope = (
        data.vault.id if data is not None else names.key_vault_id(ctx.subscription, group, key.name)
    )
    live = data.role_assignments if data is not None else ()
    here = {
        (a.principal_id.lower(), a.role_definition_guid.lower()): a
        for a in live
        if a.scope.rstrip("/").lower() == scope.lower()
    }
    planned: dict[tuple[str, str], Change] = {}
    managed: set[str] = set()
    for index, signer in enumerate(ctx.doc.spec.signers):
        roles = [(j, r) for j, r in enumerate(signer.roles) if is_key_vault_role(r)]
        if not roles:
            continue
        principal = resolve_signer(ctx, index, signer)
        if principal is None:
            managed.update(role_definition_guid(r) for _, r in roles)
            continue
        for j, role in roles:
            guid = role_definition_guid(role)
            managed.add(guid)
            pair = (principal.object_id.lower(), guid)
            if pair in planned:
                continue
            label = f"{signer.name} ({pair[0]})"
            path = f"signers.{index}.roles.{j}"
            planned[pair] = _assignment(ctx, key, vault, scope, principal, guid, here, label, path)
    mine = _caller_roles(ctx, key, vault, scope, live, here, planned, creates_certificate)
    if ctx.doc.spec.role_assignments.prune:
        _prune(ctx, key, vault, here, planned, managed)
    return mine


def _prune(
    ctx: DocumentContext,
    key: KeyVaultKeySpec,
    vault: Change,
    here: dict[tuple[str, str], LiveRoleAssignment],
    planned: dict[tuple[str, str], Change],
    managed: set[str],
) -> None:
    """``roleAssignments.prune`` on the vault: vault-scope assignments of the Key Vault roles
    the signers name, held by no one the spec lists; never the caller's own."""
    caller = (ctx.live.caller_object_id or "").lower()
    for pair, live in sorted(here.items()):
        if pair[1] not in managed or pair in planned:
            continue
        role = builtin_role_name(pair[1]) or pair[1]
        if pair[0] == caller:
            ctx.warn(
                live.id,
                f"not pruning role {role} of {pair[0]} on key vault {key.name}: it is the "
                "identity running this plan; remove it by hand if meant",
                "roleAssignments.prune",
                "prune-skips-caller",
            )
            continue
        state = {"principalId": pair[0], "roleDefinition": role, "scope": live.scope}
        ctx.add(
            Change(
                address=names.role_assignment_address(live.scope, pair[0], pair[1]),
                kind=Kind.ROLE_ASSIGNMENT,
                action=Action.DELETE,
                reason=Reason.PRUNE,
                resource_id=live.id,
                summary=(
                    f"role {role} for {principal_label(ctx, pair[0], live.principal_type)} "
                    f"on key vault {key.name}"
                ),
                before=state,
                after=None,
                diff=attribute_diff(state, None),
                depends_on=(vault.address,),
                spec_location=ctx.where("roleAssignments.prune"),
                params=RoleAssignmentParams(
                    subscription_id=ctx.subscription,
                    resource_group=vault.params_as(KeyVaultParams).resource_group,
                    registry=ctx.registry_name,
                    scope=live.scope,
                    name=live.name,
                    principal_id=pair[0],
                    principal_type=live.principal_type,
                    role_definition_guid=pair[1],
                ),
                target=ctx.target,
            )
        )


def _caller_roles(
    ctx: DocumentContext,
    key: KeyVaultKeySpec,
    vault: Change,
    scope: str,
    live: tuple[LiveRoleAssignment, ...],
    here: dict[tuple[str, str], LiveRoleAssignment],
    planned: dict[tuple[str, str], Change],
    creates_certificate: bool,
) -> list[Change]:
    caller = (ctx.live.caller_object_id or "").lower()
    needed = [CERTIFICATES_OFFICER] if creates_certificate else []
    needed += [CRYPTO_USER, CERTIFICATE_USER]
    if not caller:
        ctx.apply_needs(
            scope,
            f"the identity running this plan is not known (its token has no object id), so "
            f"the Key Vault roles it needs on {key.name} ("
            + ", ".join(builtin_role_name(g) or g for g in needed)
            + ") cannot be planned; apply needs them",
            CALLER_PATH,
            "keyvault-caller-unknown",
        )
        return []
    held = {a.role_definition_guid.lower() for a in live if a.principal_id.lower() == caller}
    mine: list[Change] = []
    for guid in needed:
        pair = (caller, guid)
        if pair in planned:
            mine.append(planned[pair])
            continue
        if held & COVERED_BY[guid]:
            continue
        principal = LivePrincipal(caller, None, "the identity running apply", _caller_type(ctx))
        label = f"the identity running apply ({caller}), {WHY[guid]}"
        change = _assignment(
            ctx, key, vault, scope, principal, guid, here, label, CALLER_PATH, for_caller=True
        )
        planned[pair] = change
        mine.append(change)
    return mine


def _caller_type(ctx: DocumentContext) -> str:
    return ctx.live.caller_principal_type or ""


def _assignment(
    ctx: DocumentContext,
    key: KeyVaultKeySpec,
    vault: Change,
    scope: str,
    principal: LivePrincipal,
    guid: str,
    here: dict[tuple[str, str], LiveRoleAssignment],
    label: str,
    path: str,
    *,
    for_caller: bool = False,
) -> Change:
    oid = principal.object_id.lower()
    existing = here.get((oid, guid))
    deterministic = names.role_assignment_name(scope, oid, guid)
    name = existing.name if existing is not None else deterministic
    role = builtin_role_name(guid) or guid
    state = {"principalId": oid, "roleDefinition": role, "scope": scope}
    if existing is None:
        reason = ctx.absent_reason()
    else:
        reason = Reason.IN_SYNC if existing.name == deterministic else Reason.ADOPTED
    return ctx.add(
        Change(
            address=names.role_assignment_address(scope, oid, guid),
            kind=Kind.ROLE_ASSIGNMENT,
            action=Action.NOOP if existing is not None else Action.CREATE,
            reason=reason,
            resource_id=names.role_assignment_id(scope, name),
            summary=f"role {role} for {label} on key vault {key.name}",
            before=state if existing is not None else None,
            after=state,
            diff=() if existing is not None else attribute_diff(None, state),
            depends_on=(vault.address,),
            spec_location=ctx.where(path),
            params=RoleAssignmentParams(
                subscription_id=ctx.subscription,
                resource_group=vault.params_as(KeyVaultParams).resource_group,
                registry=ctx.registry_name,
                scope=scope,
                name=name,
                principal_id=oid,
                principal_type=principal.principal_type,
                role_definition_guid=guid,
                role_definition_id=names.role_definition_id(ctx.subscription, guid),
                for_caller=for_caller,
            ),
            target=ctx.target,
        )
    )
