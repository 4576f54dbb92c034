"""Signing certificate: created self-signed in Key Vault with the policy of the plan.

The certificate is made by Key Vault (``begin_create_certificate``), so the private key is
generated there and never leaves it (non-exportable). An existing certificate of that name
is success: the planner compared it and reported any difference; it is never replaced.

Key Vault honours a new role assignment only after minutes (Azure documents up to ten).
When this plan granted the identity running apply a Key Vault role (``wait_for_roles``),
a 403 from the vault is that delay: the handler says so and tries again until the window
ends. Without a new grant a 403 is a real refusal and fails at once.
"""

from __future__ import annotations

from collections.abc import Sequence

from acr_reconcile.apply.context import ApplyContext
from acr_reconcile.apply.keyvault_access import until_authorized
from acr_reconcile.azure.errors import translate
from acr_reconcile.plan.model import Change, SigningCertificateParams


def _policy(params: SigningCertificateParams) -> object:
    from azure.keyvault.certificates import (
        CertificateContentType,
        CertificatePolicy,
        KeyType,
        KeyUsageType,
        WellKnownIssuerNames,
    )

    return CertificatePolicy(
        issuer_name=WellKnownIssuerNames.self,
        subject=params.subject,
        key_type=KeyType(params.key_type),
        key_size=params.key_size,
        exportable=params.exportable,
        reuse_key=True,
        content_type=CertificateContentType.pem,
        key_usage=[KeyUsageType(params.key_usage)],
        enhanced_key_usage=[params.extended_key_usage],
        validity_in_months=params.validity_months,
    )


def apply(changes: Sequence[Change], ctx: ApplyContext) -> str:
    from azure.core.exceptions import AzureError as SdkError
    from azure.core.exceptions import ResourceNotFoundError

    change = changes[0]
    params = change.params_as(SigningCertificateParams)
    vault = ctx.session.keyvault(params.subscription_id).vaults.get(
        params.resource_group, params.vault
    )
    certificates = ctx.session.certificates(str(vault.properties.vault_uri))
    resource = f"{params.vault}/certificates/{params.certificate}"

    def create() -> str:
        try:
            certificates.get_certificate(params.certificate)
            return "already present"
        except ResourceNotFoundError:
            pass
        poller = certificates.begin_create_certificate(params.certificate, _policy(params))
        poller.result()
        return "created"

    try:
        return until_authorized(create, params.vault, params.wait_for_roles, ctx)
    except SdkError as error:
        raise translate(error, resource, "creating the signing certificate") from None
