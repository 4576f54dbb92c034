# ruff: noqa: E501  (SDK calls and cases read best on one line)
"""Notary Project signatures made with a key that stays in the sandbox's Key Vault.

The real certificates and crypto clients talk to the vault over HTTPS through Key
Vault's bearer challenge; the digest goes to ``keys/sign`` and the signature comes back
as Key Vault makes it. Our verifier (RSASSA-PSS with salt = hash length exactly, raw
ECDSA r||s) and joserfc (JWS, notary headers registered) accept the envelopes, which is
the proof that the Signer interface fits Key Vault as well as a PEM file.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from azure.keyvault.certificates import (
    CertificateClient,
    CertificateContentType,
    CertificatePolicy,
    KeyUsageType,
)
from azure.mgmt.authorization.models import RoleAssignmentCreateParameters
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from joserfc import jwk, jws
from joserfc.registry import HeaderParameter

from acr_reconcile.azure.keyvault_signer import KeyVaultSigner
from acr_reconcile.notation.envelope import SignatureFormat, SignRequest
from acr_reconcile.notation.envelopes import build_envelope
from acr_reconcile.notation.identity import parse_identity
from acr_reconcile.notation.payload import Descriptor
from acr_reconcile.notation.verify import (
    NamedStore,
    StoreType,
    Verdict,
    VerificationPolicy,
    verify_envelope,
)
from acr_reconcile.spec.roles import BUILTIN_ROLES
from acr_sandbox.testing import SandboxHandle

pytestmark = pytest.mark.e2e

ADMINISTRATOR = "00482a5a-887f-4fb3-b363-3b7fe8e74483"  # Key Vault Administrator
CODE_SIGNING = "1.3.6.1.5.5.7.3.3"
SUBJECT = "CN=release, O=Contoso, L=Seattle, ST=WA, C=US"
TARGET = Descriptor("application/vnd.oci.image.manifest.v1+json", "sha256:" + "5e" * 32, 1024)


@pytest.fixture(scope="module")
def certificates(sandbox: SandboxHandle) -> CertificateClient:
    sandbox.reset_state()
    sandbox.clients().resources.resource_groups.create_or_update("rg-signing", {"location": "westeurope"})  # fmt: skip
    body = {
        "location": "westeurope",
        "properties": {
            "tenantId": sandbox.tenant_id,
            "sku": {"family": "A", "name": "standard"},
            "enableRbacAuthorization": True,
        },
    }
    vault = sandbox.keyvault_client().vaults.begin_create_or_update("rg-signing", "contoso-signing", body).result()  # fmt: skip
    owner = sandbox.state()["owner"]["objectId"]
    for role in (ADMINISTRATOR, BUILTIN_ROLES["Key Vault Crypto User"]):
        definition = f"/subscriptions/{sandbox.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{role}"  # fmt: skip
        sandbox.clients().authorization.role_assignments.create(
            str(vault.id),
            str(uuid.uuid4()),
            RoleAssignmentCreateParameters(
                role_definition_id=definition, principal_id=owner, principal_type="ServicePrincipal"
            ),
        )
    return CertificateClient(
        str(vault.properties.vault_uri), sandbox.credential(), connection_verify=sandbox.ca_bundle
    )


def _create(certificates: CertificateClient, name: str, **key: Any) -> None:
    """The certificate policy of Microsoft's ACR signing tutorial (self-signed, code signing)."""
    policy = CertificatePolicy(
        issuer_name="Self",
        subject=SUBJECT,
        exportable=False,
        reuse_key=True,
        key_usage=[KeyUsageType.digital_signature],
        enhanced_key_usage=[CODE_SIGNING],
        validity_in_months=12,
        content_type=CertificateContentType.pem,
        **key,
    )
    certificates.begin_create_certificate(name, policy).result()


def _policy(signer: KeyVaultSigner) -> VerificationPolicy:
    anchor = signer.certificate_chain()[-1].public_bytes(Encoding.DER)
    store = NamedStore(StoreType.CA, "contosoprod", (anchor,))
    return VerificationPolicy("contosoprod", (store,), (parse_identity("x509.subject: C=US, ST=WA, O=Contoso"),))  # fmt: skip


@pytest.mark.parametrize(
    ("name", "key", "algorithm"),
    [
        ("release-rsa", {"key_type": "RSA", "key_size": 2048}, "PS256"),
        ("release-rsa3072", {"key_type": "RSA", "key_size": 3072}, "PS384"),
        ("release-ec", {"key_type": "EC", "key_curve_name": "P-256"}, "ES256"),
        ("release-ec384", {"key_type": "EC", "key_curve_name": "P-384"}, "ES384"),
    ],
)
def test_envelopes_signed_in_key_vault_verify(
    sandbox: SandboxHandle, certificates: CertificateClient, name: str, key: dict[str, Any], algorithm: str
) -> None:  # fmt: skip
    _create(certificates, name, **key)
    signer = KeyVaultSigner.from_certificate(
        certificates, name, sandbox.credential(), connection_verify=sandbox.ca_bundle
    )
    assert signer.key_algorithm().value == algorithm
    now = datetime.now(UTC)
    for fmt in (SignatureFormat.COSE, SignatureFormat.JWS):
        data = build_envelope(fmt, SignRequest(TARGET, signer, now))
        result = verify_envelope(fmt.media_type, data, TARGET, _policy(signer), now)
        assert (result.verdict, result.signer) == (
            Verdict.SIGNED,
            "C=US, ST=WA, L=Seattle, O=Contoso, CN=release",
        ), result.reason
    public = signer.certificate_chain()[0].public_key()
    pem = public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    headers = {
        n: HeaderParameter(n, "str")
        for n in ("io.cncf.notary.signingScheme", "io.cncf.notary.signingTime", "io.cncf.notary.signingAgent")
    }  # fmt: skip
    registry = jws.JWSRegistry(header_registry=headers, algorithms=[algorithm])
    verified = jws.deserialize_json(json.loads(data), jwk.import_key(pem, "RSA" if algorithm.startswith("PS") else "EC"), registry=registry)  # fmt: skip
    assert json.loads(verified.payload)["targetArtifact"]["digest"] == TARGET.digest


def test_a_principal_without_crypto_user_gets_a_named_refusal(
    sandbox: SandboxHandle, certificates: CertificateClient
) -> None:
    """Key Vault Certificate User reads the certificate; signing needs Key Vault Crypto User:
    the refusal is the tool's error naming the key and the status, not an SDK exception."""
    from azure.identity import ClientSecretCredential

    from acr_reconcile.errors import TerminalAzureError

    _create(certificates, "release-guarded", key_type="RSA", key_size=2048)
    app_id, object_id, secret = sandbox.add_principal("notation-signer")
    vault_id = f"/subscriptions/{sandbox.subscription_id}/resourceGroups/rg-signing/providers/Microsoft.KeyVault/vaults/contoso-signing"
    definition = f"/subscriptions/{sandbox.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{BUILTIN_ROLES['Key Vault Certificate User']}"
    sandbox.clients().authorization.role_assignments.create(
        vault_id,
        str(uuid.uuid4()),
        RoleAssignmentCreateParameters(
            role_definition_id=definition, principal_id=object_id, principal_type="ServicePrincipal"
        ),
    )
    other = ClientSecretCredential(
        sandbox.tenant_id, app_id, secret, authority=sandbox.arm_url,
        disable_instance_discovery=True, connection_verify=sandbox.ca_bundle,
    )  # fmt: skip
    reader = CertificateClient(certificates.vault_url, other, connection_verify=sandbox.ca_bundle)
    signer = KeyVaultSigner.from_certificate(
        reader, "release-guarded", other, connection_verify=sandbox.ca_bundle
    )
    with pytest.raises(TerminalAzureError) as refused:
        build_envelope(SignatureFormat.COSE, SignRequest(TARGET, signer, datetime.now(UTC)))
    assert refused.value.status == 403
    assert str(refused.value).startswith(f"{signer.key_id}: signing with Key Vault failed")
