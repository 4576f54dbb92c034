"""Key Vault with the real clients, unchanged: azure-mgmt-keyvault for the vault, and the
azure-keyvault-keys/-certificates/-secrets clients with their default settings (the
challenge-resource check on) against ``https://<vault>.vault.localhost:<port>``."""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.identity import ClientSecretCredential
from azure.keyvault.certificates import (
    CertificateClient,
    CertificateContentType,
    CertificatePolicy,
    KeyUsageType,
)
from azure.keyvault.keys import KeyClient
from azure.keyvault.keys.crypto import CryptographyClient, SignatureAlgorithm
from azure.keyvault.secrets import SecretClient
from azure.mgmt.authorization.models import RoleAssignmentCreateParameters
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from acr_sandbox.testing import SandboxHandle

ADMINISTRATOR = "00482a5a-887f-4fb3-b363-3b7fe8e74483"
CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424"
CERTIFICATE_USER = "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba"
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
CODE_SIGNING = "1.3.6.1.5.5.7.3.3"


@dataclass
class Vault:
    sandbox: SandboxHandle
    id: str
    url: str
    credential: Any

    def keys(self, credential: Any = None) -> KeyClient:
        return KeyClient(self.url, credential or self.credential, connection_verify=self._ca)

    def certificates(self, credential: Any = None) -> CertificateClient:
        return CertificateClient(
            self.url, credential or self.credential, connection_verify=self._ca
        )

    def secrets(self, credential: Any = None) -> SecretClient:
        return SecretClient(self.url, credential or self.credential, connection_verify=self._ca)

    def crypto(self, key_id: str, credential: Any = None) -> CryptographyClient:
        return CryptographyClient(key_id, credential or self.credential, connection_verify=self._ca)

    @property
    def _ca(self) -> str:
        return self.sandbox.ca_bundle


def grant(sandbox: SandboxHandle, scope: str, principal: str, role: str) -> None:
    definition = (
        f"/subscriptions/{sandbox.subscription_id}/providers/Microsoft.Authorization/"
        f"roleDefinitions/{role}"
    )
    sandbox.clients().authorization.role_assignments.create(
        scope,
        str(uuid.uuid4()),
        RoleAssignmentCreateParameters(
            role_definition_id=definition, principal_id=principal, principal_type="ServicePrincipal"
        ),
    )


def credential_for(sandbox: SandboxHandle, app_id: str, secret: str) -> ClientSecretCredential:
    return ClientSecretCredential(
        sandbox.tenant_id,
        app_id,
        secret,
        authority=sandbox.arm_url,
        disable_instance_discovery=True,
        connection_verify=sandbox.ca_bundle,
    )


def make_vault(sandbox: SandboxHandle, name: str, **properties: Any) -> Any:
    client = sandbox.keyvault_client()
    body = {
        "location": "westeurope",
        "properties": {
            "tenantId": sandbox.tenant_id,
            "sku": {"family": "A", "name": "standard"},
            **properties,
        },
    }
    return client.vaults.begin_create_or_update("kv-rg", name, body).result()


@pytest.fixture()
def vault(sandbox: SandboxHandle) -> Iterator[Vault]:
    sandbox.reset_state()
    sandbox.clients().resources.resource_groups.create_or_update(
        "kv-rg", {"location": "westeurope"}
    )
    created = make_vault(sandbox, "kvpeer01")
    owner = sandbox.state()["owner"]["objectId"]
    grant(sandbox, str(created.id), owner, ADMINISTRATOR)
    yield Vault(sandbox, str(created.id), str(created.properties.vault_uri), sandbox.credential())


def test_vault_uri_is_a_real_hostname_under_the_clouds_key_vault_suffix(
    sandbox: SandboxHandle, vault: Vault
) -> None:
    import requests

    metadata = requests.get(
        f"{sandbox.arm_url}/metadata/endpoints?api-version=2022-09-01",
        verify=sandbox.ca_bundle,
        timeout=10,
    ).json()
    suffix = metadata["suffixes"]["keyVaultDns"]
    assert vault.url == f"https://kvpeer01.{suffix}/"
    assert suffix.startswith("vault.localhost:")
    part = next(p for p in sandbox.status()["parts"] if p["name"] == "key vault")
    assert part["healthy"] and suffix in part["detail"]


def test_rsa_and_ec_keys_sign_remotely_and_verify_with_the_public_key(vault: Vault) -> None:
    keys = vault.keys()
    rsa_key = keys.create_rsa_key("signer-rsa", size=3072)
    ec_keys = {
        curve: keys.create_ec_key(f"signer-{curve.lower().replace('-', '')}", curve=curve)
        for curve in ("P-256", "P-384", "P-521")
    }
    assert keys.get_key("signer-rsa").id == rsa_key.id
    message = b"notation signing input"
    public_rsa = serialization.load_der_public_key(_rsa_der(rsa_key.key.n, rsa_key.key.e))
    assert isinstance(public_rsa, rsa.RSAPublicKey)
    for name, digest_alg in (("256", hashes.SHA256()), ("384", hashes.SHA384()),
                             ("512", hashes.SHA512())):  # fmt: skip
        digest = _digest(digest_alg, message)
        client = vault.crypto(str(rsa_key.id))
        ps = client.sign(SignatureAlgorithm(f"PS{name}"), digest)
        public_rsa.verify(
            ps.signature,
            digest,
            padding.PSS(padding.MGF1(digest_alg), digest_alg.digest_size),
            utils.Prehashed(digest_alg),
        )
        rs = client.sign(SignatureAlgorithm(f"RS{name}"), digest)
        public_rsa.verify(rs.signature, digest, padding.PKCS1v15(), utils.Prehashed(digest_alg))
    for (curve, key), (alg, digest_alg) in zip(
        ec_keys.items(),
        (("ES256", hashes.SHA256()), ("ES384", hashes.SHA384()), ("ES512", hashes.SHA512())),
        strict=True,
    ):
        digest = _digest(digest_alg, message)
        signed = vault.crypto(str(key.id)).sign(SignatureAlgorithm(alg), digest)
        width = {"P-256": 32, "P-384": 48, "P-521": 66}[curve]
        assert len(signed.signature) == 2 * width  # raw r||s, not DER
        r = int.from_bytes(signed.signature[:width], "big")
        s = int.from_bytes(signed.signature[width:], "big")
        public = ec.EllipticCurvePublicNumbers(
            int.from_bytes(key.key.x, "big"), int.from_bytes(key.key.y, "big"),
            {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(), "P-521": ec.SECP521R1()}[curve],
        ).public_key()  # fmt: skip
        public.verify(
            utils.encode_dss_signature(r, s), digest, ec.ECDSA(utils.Prehashed(digest_alg))
        )


def test_remote_verify_answers_for_a_principal_that_cannot_read_the_key(
    sandbox: SandboxHandle, vault: Vault
) -> None:
    key = vault.keys().create_ec_key("verify-only", curve="P-256")
    digest = hashlib.sha256(b"x").digest()
    signature = vault.crypto(str(key.id)).sign(SignatureAlgorithm.es256, digest).signature
    assert vault.crypto(str(key.id)).verify(SignatureAlgorithm.es256, digest, signature).is_valid
    tampered = bytes([signature[0] ^ 1]) + signature[1:]
    result = vault.crypto(str(key.id)).verify(SignatureAlgorithm.es256, digest, tampered)
    assert not result.is_valid


def test_code_signing_certificate_from_a_self_signed_policy(vault: Vault) -> None:
    policy = CertificatePolicy(
        issuer_name="Self",
        subject="CN=acr-reconcile signer, O=Example",
        san_dns_names=["signer.example.com"],
        exportable=True,
        key_type="RSA",
        key_size=3072,
        reuse_key=False,
        key_usage=[KeyUsageType.digital_signature],
        enhanced_key_usage=[CODE_SIGNING],
        validity_in_months=6,
        content_type=CertificateContentType.pkcs12,
    )
    certificates = vault.certificates()
    done = certificates.begin_create_certificate("codesign", policy).result()
    assert done.id and done.key_id and done.secret_id and done.cer
    leaf = x509.load_der_x509_certificate(bytes(done.cer))
    assert done.properties.x509_thumbprint == hashlib.sha1(bytes(done.cer)).digest()
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    assert usage.value.digital_signature
    for other in ("content_commitment", "key_encipherment", "data_encipherment",
                  "key_agreement", "key_cert_sign", "crl_sign"):  # fmt: skip
        assert not getattr(usage.value, other)
    ekus = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(ekus) == [ExtendedKeyUsageOID.CODE_SIGNING]
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["signer.example.com"]
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
        "acr-reconcile signer"
    )
    assert leaf.issuer == leaf.subject
    public = leaf.public_key()
    assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 3072
    months = (leaf.not_valid_after_utc - leaf.not_valid_before_utc).days
    assert 180 <= months <= 185
    # get by version, the key behind it, and its secret as PKCS#12
    version = str(done.properties.version)
    assert certificates.get_certificate_version("codesign", version).cer == done.cer
    key = vault.keys().get_key("codesign", version)
    assert key.id == done.key_id
    digest = hashlib.sha256(b"payload").digest()
    signed = vault.crypto(str(done.key_id)).sign(SignatureAlgorithm.ps256, digest)
    public.verify(
        signed.signature,
        digest,
        padding.PSS(padding.MGF1(hashes.SHA256()), 32),
        utils.Prehashed(hashes.SHA256()),
    )
    secret = vault.secrets().get_secret("codesign", version)
    assert secret.properties.content_type == "application/x-pkcs12"
    private, cert, _ = pkcs12.load_key_and_certificates(base64.b64decode(secret.value), None)
    assert cert is not None and cert.public_bytes(serialization.Encoding.DER) == bytes(done.cer)
    assert private is not None


def test_ec_certificate_with_a_pem_secret_and_reused_key(vault: Vault) -> None:
    policy = CertificatePolicy(
        issuer_name="Self",
        subject="CN=ec signer",
        key_type="EC",
        key_curve_name="P-384",
        reuse_key=True,
        key_usage=[KeyUsageType.digital_signature],
        enhanced_key_usage=[CODE_SIGNING],
        content_type=CertificateContentType.pem,
    )
    certificates = vault.certificates()
    first = certificates.begin_create_certificate("ecsign", policy).result()
    second = certificates.begin_create_certificate("ecsign", policy).result()
    assert first.properties.version != second.properties.version
    first_leaf = x509.load_der_x509_certificate(bytes(first.cer))
    second_leaf = x509.load_der_x509_certificate(bytes(second.cer))
    assert _spki(first_leaf) == _spki(second_leaf)  # reuse_key
    secret = vault.secrets().get_secret("ecsign")
    assert secret.properties.content_type == "application/x-pem-file"
    assert "PRIVATE KEY-----" in secret.value and "CERTIFICATE-----" in secret.value
    digest = hashlib.sha384(b"payload").digest()
    signed = vault.crypto(str(second.key_id)).sign(SignatureAlgorithm.es384, digest)
    assert len(signed.signature) == 96
    assert certificates.get_certificate_policy("ecsign").key_curve_name == "P-384"


def test_import_a_pkcs12_certificate(vault: Vault) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "imported")])
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    blob = pkcs12.serialize_key_and_certificates(
        None, key, cert, None, serialization.BestAvailableEncryption(b"pw")
    )
    imported = vault.certificates().import_certificate("imported", blob, password="pw")
    assert bytes(imported.cer) == cert.public_bytes(serialization.Encoding.DER)
    digest = hashlib.sha256(b"m").digest()
    signed = vault.crypto(str(imported.key_id)).sign(SignatureAlgorithm.es256, digest)
    r = int.from_bytes(signed.signature[:32], "big")
    s = int.from_bytes(signed.signature[32:], "big")
    key.public_key().verify(
        utils.encode_dss_signature(r, s), digest, ec.ECDSA(utils.Prehashed(hashes.SHA256()))
    )


def test_secrets_set_and_get_by_version(vault: Vault) -> None:
    secrets = vault.secrets()
    first = secrets.set_secret("app-password", "one", content_type="text/plain")
    second = secrets.set_secret("app-password", "two")
    assert secrets.get_secret("app-password").value == "two"
    assert secrets.get_secret("app-password", first.properties.version).value == "one"
    assert second.properties.version != first.properties.version
    with pytest.raises(ResourceNotFoundError) as missing:
        secrets.get_secret("no-such-secret")
    assert missing.value.error is not None and missing.value.error.code == "SecretNotFound"


def test_sign_needs_crypto_user_and_succeeds_once_granted(
    sandbox: SandboxHandle, vault: Vault
) -> None:
    key = vault.keys().create_rsa_key("guarded")
    app_id, object_id, secret = sandbox.add_principal("kv-signer")
    other = credential_for(sandbox, app_id, secret)
    digest = hashlib.sha256(b"artifact").digest()
    with pytest.raises(HttpResponseError) as refused:
        vault.crypto(str(key.id), other).sign(SignatureAlgorithm.ps256, digest)
    assert refused.value.status_code == 403
    assert refused.value.error is not None and refused.value.error.code == "Forbidden"
    assert "ForbiddenByRbac" in str(refused.value.response.text())
    assert "keys/sign/action" in str(refused.value.message)
    grant(sandbox, vault.id, object_id, CRYPTO_USER)
    signed = vault.crypto(str(key.id), other).sign(SignatureAlgorithm.ps256, digest)
    assert signed.key_id == key.id
    # Crypto User may not read secrets or create keys
    with pytest.raises(HttpResponseError) as no_secrets:
        vault.secrets(other).set_secret("x", "y")
    assert no_secrets.value.status_code == 403


def test_a_new_role_assignment_answers_403_until_it_propagates(
    sandbox: SandboxHandle, vault: Vault
) -> None:
    key = vault.keys().create_ec_key("late", curve="P-256")
    app_id, object_id, secret = sandbox.add_principal("kv-late")
    other = credential_for(sandbox, app_id, secret)
    digest = hashlib.sha256(b"a").digest()
    sandbox.settings(keyvault_rbac_delay=3600.0)
    try:
        grant(sandbox, vault.id, object_id, CRYPTO_USER)
        with pytest.raises(HttpResponseError) as refused:
            vault.crypto(str(key.id), other).sign(SignatureAlgorithm.es256, digest)
        assert refused.value.status_code == 403
    finally:
        sandbox.settings(keyvault_rbac_delay=0.0)
    assert vault.crypto(str(key.id), other).sign(SignatureAlgorithm.es256, digest).signature


def test_role_at_the_resource_group_reaches_the_vault(sandbox: SandboxHandle, vault: Vault) -> None:
    vault.secrets().set_secret("shared", "value")
    app_id, object_id, secret = sandbox.add_principal("kv-rg-reader")
    grant(sandbox, vault.id.split("/providers/")[0], object_id, SECRETS_USER)
    other = credential_for(sandbox, app_id, secret)
    assert vault.secrets(other).get_secret("shared").value == "value"


def test_access_policy_mode_follows_the_vaults_policies(sandbox: SandboxHandle) -> None:
    sandbox.reset_state()
    sandbox.clients().resources.resource_groups.create_or_update(
        "kv-rg", {"location": "westeurope"}
    )
    owner = sandbox.state()["owner"]["objectId"]
    policy = {
        "tenantId": sandbox.tenant_id,
        "objectId": owner,
        "permissions": {"secrets": ["get", "set"], "keys": ["create", "get"]},
    }
    created = make_vault(
        sandbox, "kvpolicy01", enableRbacAuthorization=False, accessPolicies=[policy]
    )
    url = str(created.properties.vault_uri)
    secrets = SecretClient(url, sandbox.credential(), connection_verify=sandbox.ca_bundle)
    secrets.set_secret("s", "v")
    assert secrets.get_secret("s").value == "v"
    keys = KeyClient(url, sandbox.credential(), connection_verify=sandbox.ca_bundle)
    key = keys.create_ec_key("k")
    crypto = CryptographyClient(
        str(key.id), sandbox.credential(), connection_verify=sandbox.ca_bundle
    )
    with pytest.raises(HttpResponseError) as refused:
        crypto.sign(SignatureAlgorithm.es256, hashlib.sha256(b"x").digest())
    assert refused.value.status_code == 403
    assert "AccessDenied" in str(refused.value.response.text())


def test_throttling_answers_429_with_retry_after(sandbox: SandboxHandle, vault: Vault) -> None:
    vault.secrets().set_secret("hot", "v")
    sandbox.settings(keyvault_throttle={"transactions": 3})
    try:
        client = SecretClient(
            vault.url, vault.credential, connection_verify=sandbox.ca_bundle, retry_total=0
        )
        for _ in range(3):
            client.get_secret("hot")
        with pytest.raises(HttpResponseError) as throttled:
            client.get_secret("hot")
    finally:
        sandbox.settings(keyvault_throttle={"transactions": 4000})
    assert throttled.value.status_code == 429
    assert throttled.value.error is not None and throttled.value.error.code == "Throttled"
    assert int(throttled.value.response.headers["Retry-After"]) >= 1


def test_vault_lifecycle_soft_delete_recover_and_purge(sandbox: SandboxHandle) -> None:
    sandbox.reset_state()
    sandbox.clients().resources.resource_groups.create_or_update(
        "kv-rg", {"location": "westeurope"}
    )
    client = sandbox.keyvault_client()
    assert client.vaults.check_name_availability(
        {"name": "kvlife01", "type": "Microsoft.KeyVault/vaults"}
    ).name_available
    made = make_vault(sandbox, "kvlife01")
    assert made.properties.provisioning_state == "Succeeded"
    assert (
        made.properties.enable_soft_delete and made.properties.soft_delete_retention_in_days == 90
    )
    updated = client.vaults.update(
        "kv-rg", "kvlife01", {"properties": {"enabledForDeployment": True}, "tags": {"a": "b"}}
    )
    assert updated.properties.enabled_for_deployment and updated.tags == {"a": "b"}
    assert [v.name for v in client.vaults.list_by_resource_group("kv-rg")] == ["kvlife01"]
    assert [v.id for v in client.vaults.list()] == [made.id]  # the generic resource list
    taken = client.vaults.check_name_availability(
        {"name": "kvlife01", "type": "Microsoft.KeyVault/vaults"}
    )
    assert not taken.name_available and taken.reason == "AlreadyExists"
    client.vaults.delete("kv-rg", "kvlife01")
    with pytest.raises(ResourceNotFoundError):
        client.vaults.get("kv-rg", "kvlife01")
    gone = client.vaults.get_deleted("kvlife01", "westeurope")
    assert gone.properties.vault_id == made.id and gone.properties.scheduled_purge_date
    with pytest.raises(HttpResponseError) as conflict:
        make_vault(sandbox, "kvlife01")
    assert conflict.value.status_code == 409
    recovered = make_vault(sandbox, "kvlife01", createMode="recover")
    assert recovered.id == made.id
    client.vaults.delete("kv-rg", "kvlife01")
    client.vaults.begin_purge_deleted("kvlife01", "westeurope").result()
    assert not list(client.vaults.list_deleted())
    assert make_vault(sandbox, "kvlife01").properties.provisioning_state == "Succeeded"


def test_vaults_keys_and_certificates_survive_a_restart(tmp_path: Any) -> None:
    from acr_sandbox import process

    handle = SandboxHandle.start(tmp_path / "kvrestart")
    try:
        handle.settings(keyvault_rbac_delay=0.0)
        handle.clients().resources.resource_groups.create_or_update(
            "kv-rg", {"location": "westeurope"}
        )
        created = make_vault(handle, "kvrestart1")
        grant(handle, str(created.id), handle.state()["owner"]["objectId"], ADMINISTRATOR)
        url = str(created.properties.vault_uri)
        key = KeyClient(url, handle.credential(), connection_verify=handle.ca_bundle)
        made = key.create_ec_key("survivor")
        policy = CertificatePolicy.get_default()
        cert = (
            CertificateClient(url, handle.credential(), connection_verify=handle.ca_bundle)
            .begin_create_certificate("survivor-cert", policy)
            .result()
        )
        handle.close_clients()
        process.stop(handle.state_dir)
        handle = SandboxHandle.start(handle.state_dir)
        again = handle.keyvault_client().vaults.get("kv-rg", "kvrestart1")
        assert again.properties.vault_uri == url
        keys = KeyClient(url, handle.credential(), connection_verify=handle.ca_bundle)
        assert keys.get_key("survivor").key.x == made.key.x
        digest = hashlib.sha256(b"after").digest()
        crypto = CryptographyClient(
            str(made.id), handle.credential(), connection_verify=handle.ca_bundle
        )
        assert crypto.sign(SignatureAlgorithm.es256, digest).signature
        certs = CertificateClient(url, handle.credential(), connection_verify=handle.ca_bundle)
        assert certs.get_certificate("survivor-cert").cer == cert.cer
    finally:
        handle.stop()


def _digest(algorithm: hashes.HashAlgorithm, message: bytes) -> bytes:
    h = hashes.Hash(algorithm)
    h.update(message)
    return h.finalize()


def _spki(cert: x509.Certificate) -> bytes:
    return cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _rsa_der(n: bytes, e: bytes) -> bytes:
    numbers = rsa.RSAPublicNumbers(int.from_bytes(e, "big"), int.from_bytes(n, "big"))
    return numbers.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_data_plane_fault_rules_reach_the_vault_and_the_sdk_retries(
    sandbox: SandboxHandle, vault: Vault
) -> None:
    key = vault.keys().create_ec_key("flaky", curve="P-256")
    sandbox.clear_requests()
    sandbox.set_faults(
        [{"plane": "data", "method": "POST", "path": "/sign$", "status": 503, "count": 1}]
    )
    try:
        digest = hashlib.sha256(b"retry").digest()
        signed = vault.crypto(str(key.id)).sign(SignatureAlgorithm.es256, digest)
    finally:
        sandbox.clear_faults()
    assert len(signed.signature) == 64
    signs = [e["status"] for e in sandbox.requests(data_plane=True) if e["path"].endswith("/sign")]
    assert signs == [503, 200]
