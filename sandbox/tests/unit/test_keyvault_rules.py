"""Key Vault rules that need no server: RBAC wildcards, the weighted limits, the signature
formats, certificate policies, vault names and the settings that tune them."""

from __future__ import annotations

import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from acr_sandbox.keyvault import certbuild, crypto, names, roles
from acr_sandbox.keyvault.limits import VaultLimits
from acr_sandbox.settings import SettingsError, apply_changes, default_settings

KV = "Microsoft.KeyVault/vaults"


def _data_actions(guid: str) -> list[str]:
    return next(entry[4] for entry in roles.BUILT_INS if entry[1] == guid)


@pytest.mark.parametrize(
    ("role", "action", "granted"),
    [
        (roles.CRYPTO_USER, f"{KV}/keys/sign/action", True),
        (roles.CRYPTO_USER, f"{KV}/keys/create/action", False),
        (roles.CRYPTO_OFFICER, f"{KV}/keys/create/action", True),
        (roles.READER, f"{KV}/keys/read", True),  # vaults/*/read
        (roles.READER, f"{KV}/secrets/getSecret/action", False),
        (roles.READER, f"{KV}/keys/sign/action", False),
        (roles.ADMINISTRATOR, f"{KV}/secrets/setSecret/action", True),
        (roles.CERTIFICATE_USER, f"{KV}/secrets/getSecret/action", True),
        (roles.CERTIFICATE_USER, f"{KV}/certificates/create/action", False),
        (roles.CERTIFICATES_OFFICER, f"{KV}/certificates/create/action", True),
        (roles.CERTIFICATES_OFFICER, f"{KV}/keys/sign/action", False),
        (roles.SECRETS_USER, f"{KV}/secrets/getSecret/action", True),
        (roles.SECRETS_USER, f"{KV}/secrets/setSecret/action", False),
        (roles.SECRETS_OFFICER, f"{KV}/secrets/setSecret/action", True),
        (roles.CONTRIBUTOR, f"{KV}/keys/read", False),
    ],
)
def test_built_in_roles_grant_exactly_their_data_actions(
    role: str, action: str, granted: bool
) -> None:
    assert roles.grants(_data_actions(role), action) is granted


def test_limits_weigh_by_key_strength_and_tell_the_wait() -> None:
    now = [100.0]
    settings = default_settings()["keyVaultThrottle"] | {"transactions": 10, "keyCreates": 1}
    limits = VaultLimits(lambda: settings, clock=lambda: now[0])
    assert limits.take("v", "transactions", 8.0) is None  # one RSA-4096 operation
    assert limits.take("v", "transactions", 1.0) is None
    now[0] += 3.2
    assert limits.take("v", "transactions", 4.0) == 7  # over 10: wait for the window
    assert limits.take("other", "transactions", 4.0) is None  # per vault
    assert limits.take("v", "keyCreates") is None
    assert limits.take("v", "keyCreates") is not None
    now[0] += 7.0
    assert limits.take("v", "transactions", 4.0) is None  # a new window
    settings["enabled"] = False
    assert all(limits.take("v", "keyCreates") is None for _ in range(5))


def test_ecdsa_signatures_are_raw_r_and_s_and_verify() -> None:
    key = crypto.generate("EC", None, "P-384")
    digest = hashlib.sha384(b"m").digest()
    signature = crypto.sign(key, "ES384", digest)
    assert len(signature) == 96
    assert crypto.verify(key.public_key(), "ES384", digest, signature)
    assert not crypto.verify(key.public_key(), "ES384", digest, signature[::-1])
    with pytest.raises(crypto.CryptoError, match="curve P-256"):
        crypto.sign(key, "ES256", hashlib.sha256(b"m").digest())
    with pytest.raises(crypto.CryptoError, match="length"):
        crypto.sign(key, "ES384", hashlib.sha256(b"m").digest())
    with pytest.raises(crypto.CryptoError, match="key type"):
        crypto.sign(key, "PS384", digest)


def test_rsa_pss_and_pkcs1_signatures_verify() -> None:
    key = crypto.generate("RSA", 2048, None)
    digest = hashlib.sha512(b"m").digest()
    for alg in ("PS512", "RS512"):
        assert crypto.verify(key.public_key(), alg, digest, crypto.sign(key, alg, digest))
    with pytest.raises(crypto.CryptoError):
        crypto.generate("RSA", 1024, None)


def test_jwk_round_trip_keeps_the_key() -> None:
    key = crypto.generate("EC", None, "P-256")
    jwk = crypto.public_jwk(key, "kid", "EC", ["sign"])
    numbers = key.private_numbers()
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    jwk["d"] = crypto.b64url(numbers.private_value.to_bytes(32, "big"))
    again = crypto.from_jwk(jwk)
    assert crypto.public_jwk(again, "kid", "EC", ["sign"]) == crypto.public_jwk(
        key, "kid", "EC", ["sign"]
    )
    with pytest.raises(crypto.CryptoError):
        crypto.from_jwk({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"})


def test_policy_key_usage_is_critical_and_exact() -> None:
    policy = certbuild.normalized(
        {
            "x509_props": {
                "subject": "CN=signer",
                "key_usage": ["digitalSignature"],
                "ekus": ["1.3.6.1.5.5.7.3.3"],
                "validity_months": 1,
            },
            "key_props": {"kty": "EC", "crv": "P-256"},
        }
    )
    key = crypto.generate("EC", None, "P-256")
    cert = certbuild.self_signed(key, policy, 1_700_000_000)
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    assert usage.value == x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
        encipher_only=False, decipher_only=False,
    )  # fmt: skip
    assert cert.not_valid_before_utc.timestamp() == 1_700_000_000 - 600
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days in (30, 31)


def test_policy_defaults_and_refusals() -> None:
    policy = certbuild.normalized({"x509_props": {"subject": "CN=x"}})
    assert policy["key_props"] == {"exportable": True, "kty": "RSA", "reuse_key": False,
                                   "key_size": 2048}  # fmt: skip
    assert policy["secret_props"] == {"contentType": "application/x-pkcs12"}
    assert policy["x509_props"]["key_usage"] == ["digitalSignature", "keyEncipherment"]
    for bad in (
        {"x509_props": {}},
        {"x509_props": {"subject": "CN=x", "key_usage": ["everything"]}},
        {"x509_props": {"subject": "CN=x"}, "key_props": {"kty": "oct"}},
        {"x509_props": {"subject": "CN=x"}, "secret_props": {"contentType": "text/plain"}},
        {"x509_props": {"subject": "CN=x", "validity_months": 0}},
        "not an object",
    ):
        with pytest.raises(certbuild.PolicyError):
            certbuild.normalized(bad)


@pytest.mark.parametrize(
    ("name", "valid"),
    [("kv1", True), ("a-b-c", True), ("1kv", False), ("kv-", False), ("k--v", False),
     ("ab", False), ("a" * 24, True), ("a" * 25, False), ("kv_1", False)],
)  # fmt: skip
def test_vault_names(name: str, valid: bool) -> None:
    assert bool(names.NAME.match(name)) is valid


def test_vault_host_names_map_to_vaults() -> None:
    assert names.vault_of_host("KV1.vault.localhost:4443", 4443) == "kv1"
    assert names.vault_of_host("kv1.vault.localhost:4444", 4443) is None
    assert names.vault_of_host("127.0.0.1:4443", 4443) is None
    assert names.vault_of_host("a.b.vault.localhost:4443", 4443) is None


def test_key_vault_settings_are_checked() -> None:
    current = default_settings()
    apply_changes(current, {"keyVaultThrottle": {"transactions": 5}, "keyVaultRbacDelaySeconds": 0})
    assert current["keyVaultThrottle"]["transactions"] == 5
    assert current["keyVaultThrottle"]["keyCreates"] == 20
    assert current["keyVaultRbacDelaySeconds"] == 0.0
    for bad in (
        {"keyVaultThrottle": {"transactions": 0}},
        {"keyVaultThrottle": {"nope": 1}},
        {"keyVaultThrottle": {"enabled": "yes"}},
        {"keyVaultThrottle": 3},
        {"keyVaultRbacDelaySeconds": -1},
    ):
        with pytest.raises(SettingsError):
            apply_changes(default_settings(), bad)
