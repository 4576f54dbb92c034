"""``az keyvault`` against the sandbox as users run it: the vault through ARM, then
certificates and keys on the vault's own hostname (from the cloud's keyVaultDns suffix,
behind Key Vault's challenge), with the CLI's default settings."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.x509.oid import ExtendedKeyUsageOID

from acr_sandbox.testing import SandboxHandle
from tests.peer.azcli import AzCli

GROUP = "peer-kv-rg"
VAULT = "peerkvcli01"
CODE_SIGNING_POLICY = {
    "issuerParameters": {"name": "Self"},
    "keyProperties": {"exportable": True, "keyType": "EC", "curve": "P-256", "reuseKey": False},
    "secretProperties": {"contentType": "application/x-pem-file"},
    "x509CertificateProperties": {
        "subject": "CN=peer code signer",
        "keyUsage": ["digitalSignature"],
        "ekus": ["1.3.6.1.5.5.7.3.3"],
        "validityInMonths": 3,
    },
}


@pytest.fixture(scope="module")
def vault(az: AzCli, sandbox: SandboxHandle) -> dict[str, str]:
    sandbox.reset_state()
    az.run("group", "create", "--name", GROUP, "--location", "westeurope", "--output", "none")
    created = az.json(
        "keyvault", "create", "--name", VAULT, "--resource-group", GROUP,
        "--location", "westeurope",
    )  # fmt: skip
    az.run(
        "role", "assignment", "create",
        "--role", "Key Vault Administrator",
        "--assignee-object-id", sandbox.state()["owner"]["objectId"],
        "--assignee-principal-type", "ServicePrincipal",
        "--scope", created["id"],
        "--output", "none",
    )  # fmt: skip
    return {"id": created["id"], "uri": created["properties"]["vaultUri"]}


def test_create_and_show_the_vault(
    az: AzCli, vault: dict[str, str], sandbox: SandboxHandle
) -> None:
    shown = az.json("keyvault", "show", "--name", VAULT, "--resource-group", GROUP)
    assert shown["id"] == vault["id"]
    assert shown["properties"]["provisioningState"] == "Succeeded"
    assert shown["properties"]["enableRbacAuthorization"] is True
    assert shown["properties"]["vaultUri"].startswith(f"https://{VAULT}.vault.localhost:")


def test_certificate_create_and_show(az: AzCli, vault: dict[str, str], tmp_path: Path) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(CODE_SIGNING_POLICY))
    az.run(
        "keyvault", "certificate", "create", "--vault-name", VAULT, "--name", "peer-signer",
        "--policy", f"@{policy}", "--output", "none",
    )  # fmt: skip
    shown = az.json("keyvault", "certificate", "show", "--vault-name", VAULT, "-n", "peer-signer")
    assert shown["kid"].startswith(vault["uri"] + "keys/peer-signer/")
    leaf = x509.load_der_x509_certificate(base64.b64decode(shown["cer"]))
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    ekus = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(ekus) == [ExtendedKeyUsageOID.CODE_SIGNING]


def test_key_sign_verifies_with_the_public_key(
    az: AzCli, vault: dict[str, str], tmp_path: Path
) -> None:
    az.run(
        "keyvault", "key", "create", "--vault-name", VAULT, "--name", "peer-key",
        "--kty", "EC", "--curve", "P-256", "--output", "none",
    )  # fmt: skip
    digest = hashlib.sha256(b"signed by az").digest()
    signed = az.json(
        "keyvault", "key", "sign", "--vault-name", VAULT, "--name", "peer-key",
        "--algorithm", "ES256", "--digest", base64.b64encode(digest).decode(),
    )  # fmt: skip
    assert signed["keyId"].startswith(vault["uri"] + "keys/peer-key/")
    pem = tmp_path / "peer-key.pem"
    az.run(
        "keyvault", "key", "download", "--vault-name", VAULT, "--name", "peer-key",
        "--encoding", "PEM", "--file", str(pem),
    )  # fmt: skip
    public = serialization.load_pem_public_key(pem.read_bytes())
    assert isinstance(public, ec.EllipticCurvePublicKey)
    raw = base64.b64decode(signed["signature"])
    assert len(raw) == 64  # Key Vault's r||s
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    public.verify(
        utils.encode_dss_signature(r, s), digest, ec.ECDSA(utils.Prehashed(hashes.SHA256()))
    )


def test_signing_with_an_unknown_key_is_the_cli_error(az: AzCli, vault: dict[str, str]) -> None:
    result = az.fails(
        "keyvault", "key", "sign", "--vault-name", VAULT, "--name", "no-such-key",
        "--algorithm", "ES256", "--digest", base64.b64encode(b"x" * 32).decode(),
    )  # fmt: skip
    assert "no-such-key" in result.stderr or "KeyNotFound" in result.stderr
