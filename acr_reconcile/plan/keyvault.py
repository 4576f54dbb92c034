"""The signing vault and certificate of ``notation.signingKey.keyVault``, as reconciled state.

A missing vault is created with RBAC authorization, a missing certificate self-signed with
the policy of ACR's signing tutorial (RSA 2048, non-exportable, critical keyUsage
digitalSignature, EKU codeSigning). What exists is never replaced: a certificate whose
subject or policy differs, a vault in access-policy mode or in another resource group is
reported, because replacing a signing key invalidates every signature made with it.

Key Vault roles of the signers are assigned on the vault (``vault_roles.py``), together
with the roles the identity running apply needs to create the certificate and to sign.
Planning reads only ARM and certificate metadata: no key is needed to plan.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from acr_reconcile.live.state import LiveCertificate, LiveKeyVaultData
from acr_reconcile.notation.identity import parse_dn
from acr_reconcile.plan import names
from acr_reconcile.plan.context import DocumentContext
from acr_reconcile.plan.diffing import attribute_diff
from acr_reconcile.plan.model import (
    Action,
    Change,
    KeyVaultParams,
    Kind,
    Reason,
    SigningCertificateParams,
)
from acr_reconcile.plan.vault_roles import plan_vault_roles
from acr_reconcile.spec.notation import KeyVaultKeySpec

KEY_PATH = "notation.signingKey.keyVault"
# ACR's signing tutorial ("Sign container images with Notation and Azure Key Vault").
TUTORIAL_KEY_TYPE = "RSA"
TUTORIAL_KEY_SIZE = 2048
TUTORIAL_KEY_USAGE = "digitalSignature"
CODE_SIGNING = "1.3.6.1.5.5.7.3.3"
SOFT_DELETE_RETENTION_DAYS = 90  # Azure's default, the most a vault may keep
EXPIRY_WARNING = timedelta(days=30)


def key_vault_spec(ctx: DocumentContext) -> KeyVaultKeySpec | None:
    notation = ctx.doc.spec.notation
    key = notation.signing_key if notation is not None else None
    return key.key_vault if key is not None else None


def vault_group(ctx: DocumentContext, key: KeyVaultKeySpec) -> str:
    return key.resource_group or ctx.resource_group


def plan_key_vault(ctx: DocumentContext) -> None:
    """Vault, vault-scope role assignments, certificate; findings for what exists and differs."""
    key = key_vault_spec(ctx)
    if key is None:
        return
    group = vault_group(ctx, key)
    data = ctx.live.key_vaults.get((ctx.subscription.lower(), key.name.lower()))
    if data is not None and data.vault.resource_group.lower() != group.lower():
        ctx.error(
            data.vault.id,
            f"key vault {key.name} exists in resource group {data.vault.resource_group}, "
            f"not {group}; vault names are global, so it cannot be created there: set "
            f"resourceGroup: {data.vault.resource_group} or choose another name",
            f"{KEY_PATH}.resourceGroup" if key.resource_group else f"{KEY_PATH}.name",
            "keyvault-other-resource-group",
        )
        return
    if data is None and not _group_available(ctx, group):
        ctx.error(
            names.key_vault_id(ctx.subscription, group, key.name),
            f"resource group {group} of key vault {key.name} does not exist; create it or "
            "leave keyVault.resourceGroup out to use the document's",
            f"{KEY_PATH}.resourceGroup",
            "keyvault-resource-group-missing",
        )
        return
    if data is None and not _name_free(ctx, key):
        return
    vault = _vault_change(ctx, key, group, data)
    if data is not None:
        _check_vault(ctx, data)
    certificate = data.certificates.get(key.certificate.lower()) if data is not None else None
    # a 403 to the identity planning: the certificate may not exist (a run that stopped
    # after creating the vault); when this plan grants it its roles, apply makes sure
    unknown = (
        certificate is not None
        and certificate.exists
        and not certificate.readable
        and data is not None
        and not _caller_may_read_certificates(ctx, data)
    )
    creates_certificate = certificate is None or not certificate.exists or unknown
    caller_roles = plan_vault_roles(ctx, key, group, vault, data, creates_certificate)
    if certificate is not None and certificate.exists:
        _check_certificate(ctx, key, certificate)
    if unknown and any(c.is_change for c in caller_roles):
        _certificate_change(ctx, key, vault, None, caller_roles, if_missing=True)
        return
    _certificate_change(ctx, key, vault, certificate, caller_roles)


def _name_free(ctx: DocumentContext, key: KeyVaultKeySpec) -> bool:
    """A vault to create needs its name: not soft-deleted here, not taken anywhere."""
    checked = ctx.live.key_vault_names.get(key.name.lower())
    if checked is None or checked.available:
        return True
    resource = names.key_vault_id(ctx.subscription, vault_group(ctx, key), key.name)
    if checked.reason == "Deleted":
        ctx.error(
            resource,
            f"key vault {key.name} was deleted and is {checked.message} (soft delete keeps "
            "its name): recover it (az keyvault recover -n NAME) to keep its keys, or purge "
            "it (az keyvault purge -n NAME) to create it anew; the tool does neither",
            f"{KEY_PATH}.name",
            "keyvault-soft-deleted",
        )
    else:
        ctx.error(
            resource,
            f"key vault name {key.name} is taken ({checked.message or checked.reason}); vault "
            "names are global: choose another name",
            f"{KEY_PATH}.name",
            "keyvault-name-taken",
        )
    return False


def _group_available(ctx: DocumentContext, group: str) -> bool:
    if group.lower() == ctx.resource_group.lower():
        return True
    return ctx.live.resource_groups.get((ctx.subscription.lower(), group.lower())) is not None


def _vault_change(
    ctx: DocumentContext, key: KeyVaultKeySpec, group: str, data: LiveKeyVaultData | None
) -> Change:
    location = data.vault.location if data is not None else ctx.doc.spec.resource_group.location
    state = {"location": location, "enableRbacAuthorization": True, "enableSoftDelete": True}
    before = None
    if data is not None:
        before = {
            "location": data.vault.location,
            "enableRbacAuthorization": data.vault.rbac_authorization,
            "enableSoftDelete": data.vault.soft_delete,
        }
    depends = [names.resource_group_address(ctx.subscription, group)]
    if group.lower() != ctx.resource_group.lower():
        depends = []  # an existing group of another name: nothing in this plan makes it
    return ctx.add(
        Change(
            address=names.key_vault_address(ctx.subscription, key.name),
            kind=Kind.KEY_VAULT,
            action=Action.NOOP if data is not None else Action.CREATE,
            reason=Reason.IN_SYNC if data is not None else ctx.absent_reason(),
            resource_id=data.vault.id
            if data is not None
            else names.key_vault_id(ctx.subscription, group, key.name),
            summary=f"key vault {key.name} (RBAC authorization) in {group}",
            before=before,
            after=before if data is not None else state,
            diff=() if data is not None else attribute_diff(None, state),
            depends_on=tuple(depends),
            spec_location=ctx.where(f"{KEY_PATH}.name"),
            params=KeyVaultParams(
                subscription_id=ctx.subscription,
                resource_group=data.vault.resource_group if data is not None else group,
                vault=key.name,
                location=location,
                rbac_authorization=True,
                soft_delete_retention_days=SOFT_DELETE_RETENTION_DAYS,
            ),
            target=ctx.target,
        )
    )


def _check_vault(ctx: DocumentContext, data: LiveKeyVaultData) -> None:
    vault = data.vault
    if not vault.rbac_authorization:
        ctx.error(
            vault.id,
            f"key vault {vault.name} uses access policies; the tool grants Key Vault roles, "
            "which such a vault ignores. Switch it to RBAC authorization "
            f"(az keyvault update -n {vault.name} --enable-rbac-authorization true) after "
            "giving the principals that use it the equivalent roles",
            f"{KEY_PATH}.name",
            "keyvault-access-policies",
        )
    if not vault.soft_delete:
        ctx.warn(
            vault.id,
            f"key vault {vault.name} has soft delete off: a deleted signing key is gone for "
            "good; Azure turns soft delete on for every vault, enable it",
            f"{KEY_PATH}.name",
            "keyvault-soft-delete-off",
        )


def _policy_differences(key: KeyVaultKeySpec, live: LiveCertificate) -> list[str]:
    found: list[str] = []
    if (live.key_type or "").upper() not in (TUTORIAL_KEY_TYPE, f"{TUTORIAL_KEY_TYPE}-HSM"):
        found.append(f"key type {live.key_type} (wanted {TUTORIAL_KEY_TYPE})")
    elif live.key_size != TUTORIAL_KEY_SIZE:
        found.append(f"key size {live.key_size} (wanted {TUTORIAL_KEY_SIZE})")
    if live.exportable:
        found.append("an exportable key (wanted non-exportable)")
    if set(live.key_usage) != {TUTORIAL_KEY_USAGE}:
        shown = ", ".join(live.key_usage) or "none"
        found.append(f"keyUsage {shown} (wanted {TUTORIAL_KEY_USAGE} only)")
    if set(live.extended_key_usage) != {CODE_SIGNING}:
        shown = ", ".join(live.extended_key_usage) or "none"
        found.append(f"extended key usage {shown} (wanted codeSigning {CODE_SIGNING})")
    return found


def _check_certificate(ctx: DocumentContext, key: KeyVaultKeySpec, live: LiveCertificate) -> None:
    resource = f"{key.name}/certificates/{key.certificate}"
    if not live.readable:
        ctx.warn(
            resource,
            f"certificate {key.certificate} in key vault {key.name} could not be read "
            f"({live.problem}); its subject, policy and expiry are not checked. Give the "
            "identity that plans Key Vault Reader (or Key Vault Certificate User) on the vault",
            f"{KEY_PATH}.certificate",
            "keyvault-certificate-unreadable",
        )
        return
    if live.subject is not None and sorted(parse_dn(live.subject)) != sorted(parse_dn(key.subject)):
        ctx.error(
            resource,
            f"certificate {key.certificate} has subject '{live.subject}', not "
            f"'{key.subject}'; an existing signing certificate is never replaced. Fix "
            "subject in the spec, or name another certificate",
            f"{KEY_PATH}.subject",
            "keyvault-certificate-subject-differs",
        )
    differences = _policy_differences(key, live)
    if differences:
        ctx.warn(
            resource,
            f"certificate {key.certificate} differs from the signing policy the tool creates: "
            f"{'; '.join(differences)}. It is kept as it is (replacing a signing key "
            "invalidates its signatures); create a new certificate to change it",
            f"{KEY_PATH}.certificate",
            "keyvault-certificate-policy-differs",
        )
    _check_expiry(ctx, key, live, resource)


def _check_expiry(
    ctx: DocumentContext, key: KeyVaultKeySpec, live: LiveCertificate, resource: str
) -> None:
    if live.expires is None:
        return
    today = datetime(ctx.rules.today.year, ctx.rules.today.month, ctx.rules.today.day, tzinfo=UTC)
    expires = live.expires if live.expires.tzinfo else live.expires.replace(tzinfo=UTC)
    shown = expires.date().isoformat()
    if expires <= today:
        ctx.error(
            resource,
            f"signing certificate {key.certificate} expired on {shown}: signatures it makes "
            "are untrusted. Renew it in Key Vault (a new version of the certificate with the "
            "same policy); the tool does not replace an existing signing certificate",
            f"{KEY_PATH}.certificate",
            "keyvault-certificate-expired",
        )
    elif expires - today <= EXPIRY_WARNING:
        days = (expires - today).days
        ctx.warn(
            resource,
            f"signing certificate {key.certificate} expires on {shown} (in {days} days); "
            "renew it in Key Vault before then, or new signatures will be untrusted",
            f"{KEY_PATH}.certificate",
            "keyvault-certificate-expiring",
        )


# Key Vault's built-in roles that read certificates (``certificates/read``; Azure's GUIDs):
# Administrator, Certificates Officer, Certificate User, Reader
_CERTIFICATE_READERS = frozenset(
    {
        "00482a5a-887f-4fb3-b363-3b7fe8e74483",
        "a4417e6f-fecd-4de8-b567-7b0420556985",
        "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba",
        "21090545-7ca7-4776-b22c-e363652d74d2",
    }
)


def _caller_may_read_certificates(ctx: DocumentContext, data: LiveKeyVaultData) -> bool:
    """The identity planning holds a role that reads certificates: then a 403 is Key Vault
    not honouring it yet, and the certificate is taken to exist, as before. Without one,
    the 403 says nothing about the certificate (a run may have stopped after creating the
    vault), so this plan grants the roles and creates it if missing."""
    caller = (ctx.live.caller_object_id or "").lower()
    return any(
        a.principal_id.lower() == caller and a.role_definition_guid.lower() in _CERTIFICATE_READERS
        for a in data.role_assignments
    )


def _certificate_change(
    ctx: DocumentContext,
    key: KeyVaultKeySpec,
    vault: Change,
    live: LiveCertificate | None,
    caller_roles: list[Change],
    *,
    if_missing: bool = False,
) -> None:
    """``if_missing``: the certificate could not be read before this plan's grants; the
    create keeps one that exists (the handler's rule), so it is planned, saying so."""
    exists = live is not None and live.exists
    params = SigningCertificateParams(
        subscription_id=ctx.subscription,
        resource_group=vault.params_as(KeyVaultParams).resource_group,
        vault=key.name,
        certificate=key.certificate,
        subject=key.subject,
        key_type=TUTORIAL_KEY_TYPE,
        key_size=TUTORIAL_KEY_SIZE,
        exportable=False,
        key_usage=TUTORIAL_KEY_USAGE,
        extended_key_usage=CODE_SIGNING,
        validity_months=key.validity_months,
        wait_for_roles=any(c.is_change for c in caller_roles),
    )
    desired = {
        "subject": key.subject,
        "keyType": TUTORIAL_KEY_TYPE,
        "keySize": TUTORIAL_KEY_SIZE,
        "exportable": False,
        "keyUsage": [TUTORIAL_KEY_USAGE],
        "extendedKeyUsage": [CODE_SIGNING],
        "validityMonths": key.validity_months,
    }
    before = _observed(live) if exists and live is not None else None
    ctx.add(
        Change(
            address=names.signing_certificate_address(ctx.subscription, key.name, key.certificate),
            kind=Kind.SIGNING_CERTIFICATE,
            action=Action.NOOP if exists else Action.CREATE,
            reason=Reason.IN_SYNC if exists else ctx.absent_reason(),
            resource_id=f"{vault.resource_id}/certificates/{key.certificate}",
            summary=f"signing certificate {key.certificate} ({key.subject}) in key vault "
            f"{key.name}"
            + (
                ", if missing (not readable before this apply's Key Vault roles)"
                if if_missing
                else ""
            ),
            before=before,
            after=before if exists else desired,
            diff=() if exists else attribute_diff(None, desired),
            depends_on=(vault.address, *(c.address for c in caller_roles)),
            spec_location=ctx.where(f"{KEY_PATH}.certificate"),
            params=params,
            target=ctx.target,
        )
    )


def _observed(live: LiveCertificate) -> dict[str, object]:
    return {
        "subject": live.subject,
        "keyType": live.key_type,
        "keySize": live.key_size,
        "exportable": live.exportable,
        "keyUsage": list(live.key_usage),
        "extendedKeyUsage": list(live.extended_key_usage),
        "expires": live.expires.isoformat() if live.expires else None,
    }
