"""Signing vaults and their certificates, read for ``notation.signingKey.keyVault``.

A vault is found by name anywhere in its subscription (the generic resource list, as
``az keyvault show -n`` does), then read with one GET for the properties the plan checks
(RBAC authorization, soft delete, the data-plane URI). The certificate is read through
the vault's data plane with ``certificates/get``, which Key Vault Reader holds: planning
never needs a key or a signing permission. A 403 there is a fact for the planner (the
identity planning may not read certificates), not a failure of the read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cryptography import x509

from acr_reconcile.azure.clients import AzureSession
from acr_reconcile.azure.errors import error_code, translate
from acr_reconcile.azure.paging import PageGuard, all_items
from acr_reconcile.live.arm import resource_group_of
from acr_reconcile.live.state import LiveCertificate, LiveKeyVault, NameAvailability
from acr_reconcile.notation.identity import certificate_subject, format_dn


def _wire(model: Any) -> dict[str, Any]:
    as_dict = model.as_dict() if hasattr(model, "as_dict") else {}
    return as_dict if isinstance(as_dict, dict) else {}


def parse_vault(model: Any) -> LiveKeyVault:
    raw = _wire(model)
    props = raw.get("properties") or {}
    return LiveKeyVault(
        id=str(raw["id"]),
        name=str(raw["name"]),
        resource_group=resource_group_of(str(raw["id"])),
        location=str(raw.get("location", "")),
        vault_uri=str(props.get("vaultUri") or props.get("vault_uri") or ""),
        rbac_authorization=bool(
            props.get("enableRbacAuthorization", props.get("enable_rbac_authorization", False))
        ),
        # absent means on: Azure turned soft delete on for every vault (2020/2025)
        soft_delete=props.get("enableSoftDelete", props.get("enable_soft_delete")) is not False,
        provisioning_state=str(
            props.get("provisioningState") or props.get("provisioning_state") or "Succeeded"
        ),
    )


def find_vault(session: AzureSession, subscription_id: str, name: str) -> LiveKeyVault | None:
    """The vault ``name`` of the subscription, in whichever resource group; None if none."""
    where = f"/subscriptions/{subscription_id}/providers/Microsoft.KeyVault/vaults"
    client = session.keyvault(subscription_id)
    try:
        guard = PageGuard(session.cloud.resource_manager, where)
        found = [
            r for r in all_items(client.vaults.list(), guard) if str(r.name).lower() == name.lower()
        ]
        if not found:
            return None
        group = resource_group_of(str(found[0].id))
        return parse_vault(client.vaults.get(group, str(found[0].name)))
    except Exception as error:
        raise translate(error, f"{where}/{name}", "reading the key vault") from None


def vault_name_availability(
    session: AzureSession, subscription_id: str, name: str
) -> NameAvailability:
    """Whether a vault ``name`` the subscription lacks can be created: a soft-deleted vault
    of that name in the subscription keeps it (reason ``Deleted``, with its purge date), and
    vault names are global, so another tenant may hold it."""
    where = f"/subscriptions/{subscription_id}/providers/Microsoft.KeyVault/deletedVaults"
    client = session.keyvault(subscription_id)
    try:
        guard = PageGuard(session.cloud.resource_manager, where)
        for deleted in all_items(client.vaults.list_deleted(), guard):
            if str(deleted.name).lower() == name.lower():
                props = deleted.properties
                purge = getattr(props, "scheduled_purge_date", None)
                when = purge.date().isoformat() if isinstance(purge, datetime) else "its purge date"
                return NameAvailability(False, "Deleted", f"kept in deleted state until {when}")
        result = client.vaults.check_name_availability(
            {"name": name, "type": "Microsoft.KeyVault/vaults"}
        )
    except Exception as error:
        raise translate(error, f"key vault name {name!r}", "checking the vault name") from None
    return NameAvailability(
        available=bool(result.name_available),
        reason=str(getattr(result.reason, "value", result.reason) or "") or None,
        message=result.message,
    )


def _enum(value: Any) -> str:
    return str(getattr(value, "value", value))


def parse_certificate(name: str, certificate: Any) -> LiveCertificate:
    """A KeyVaultCertificate as plain facts; the subject is the X.509 certificate's own."""
    der = bytes(certificate.cer) if certificate.cer else None
    subject = None
    if der is not None:
        try:
            subject = format_dn(certificate_subject(x509.load_der_x509_certificate(der)))
        except (ValueError, x509.InvalidVersion):
            subject = None
    policy = certificate.policy
    properties = certificate.properties
    if subject is None and policy is not None and policy.subject:
        subject = str(policy.subject)
    return LiveCertificate(
        name=name,
        exists=True,
        subject=subject,
        key_type=_enum(policy.key_type) if policy is not None and policy.key_type else None,
        key_size=policy.key_size if policy is not None else None,
        exportable=policy.exportable if policy is not None else None,
        key_usage=tuple(_enum(u) for u in (policy.key_usage or [])) if policy else (),
        extended_key_usage=tuple(str(e) for e in (policy.enhanced_key_usage or []))
        if policy
        else (),
        not_before=_time(getattr(properties, "not_before", None)),
        expires=_time(getattr(properties, "expires_on", None)),
        key_id=str(certificate.key_id) if certificate.key_id else None,
        der=der,
    )


def _time(value: Any) -> datetime | None:
    return value if isinstance(value, datetime) else None


def read_certificate(session: AzureSession, vault: LiveKeyVault, name: str) -> LiveCertificate:
    """The certificate ``name`` of ``vault``: absent, unreadable (403) or its facts."""
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

    resource = f"{vault.vault_uri.rstrip('/')}/certificates/{name}"
    client = session.certificates(vault.vault_uri)
    try:
        return parse_certificate(name, client.get_certificate(name))
    except ResourceNotFoundError:
        return LiveCertificate(name=name, exists=False)
    except HttpResponseError as error:
        if error.status_code == 403:
            code = error_code(error) or "Forbidden"
            return LiveCertificate(
                name=name, exists=True, readable=False, problem=f"403 {code} from {resource}"
            )
        raise translate(error, resource, "reading the signing certificate") from None
    except Exception as error:
        raise translate(error, resource, "reading the signing certificate") from None
