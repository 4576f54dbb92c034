import base64
import json
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from acr_reconcile.registry.acr_auth import jwt_expiry
from acr_sandbox.dataplane import pki
from acr_sandbox.dataplane.tokens import ISSUER, TokenSigner


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture
def signer(tmp_path: Path) -> tuple[TokenSigner, Path]:
    ca_cert, ca_key = pki.create_ca(tmp_path)
    pair = pki.issue(
        tmp_path / "pki",
        "signing",
        ca_cert=str(ca_cert),
        ca_key_path=str(ca_key),
        common_name="t",
        server=False,
    )
    return TokenSigner(pair.cert_path, pair.key_path), ca_cert


def test_access_token_has_the_shape_the_servers_require(signer: tuple[TokenSigner, Path]) -> None:
    token_signer, ca_cert = signer
    access = [{"type": "repository", "name": "hello", "actions": ["pull"]}]
    token, lifetime = token_signer.access_token(subject="s", audience="127.0.0.1:1", access=access)
    head, body, sig = token.split(".")
    header, claims = json.loads(_b64(head)), json.loads(_b64(body))
    assert header["alg"] == "ES256"
    assert claims["iss"] == ISSUER and claims["aud"] == "127.0.0.1:1"  # aud a string, not a list
    assert claims["access"] == access
    assert claims["exp"] == claims["iat"] + lifetime
    leaf = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
    leaf.verify_directly_issued_by(x509.load_pem_x509_certificate(ca_cert.read_bytes()))
    raw = _b64(sig)
    assert len(raw) == 64  # raw r||s, not DER
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public = leaf.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(der, f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))


def test_refresh_token_is_bound_to_its_login_server(signer: tuple[TokenSigner, Path]) -> None:
    token_signer, _ = signer
    refresh = token_signer.refresh_token(subject="oid", tenant="tid", audience="127.0.0.1:1")
    claims = token_signer.verify_refresh(refresh, audience="127.0.0.1:1")
    assert claims is not None and (claims.subject, claims.tenant) == ("oid", "tid")
    assert token_signer.verify_refresh(refresh, audience="127.0.0.1:2") is None


def test_access_tokens_and_tampered_tokens_are_not_refresh_tokens(
    signer: tuple[TokenSigner, Path],
) -> None:
    token_signer, _ = signer
    access, _ = token_signer.access_token(subject="oid", audience="ls", access=[])
    assert token_signer.verify_refresh(access, audience="ls") is None
    refresh = token_signer.refresh_token(subject="oid", tenant="t", audience="ls")
    head, body, sig = refresh.split(".")
    claims = json.loads(_b64(body))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert token_signer.verify_refresh(f"{head}.{forged}.{sig}", audience="ls") is None
    assert token_signer.verify_refresh("not-a-jwt", audience="ls") is None


def test_expired_refresh_token_is_refused(signer: tuple[TokenSigner, Path]) -> None:
    token_signer, _ = signer
    now = int(time.time())
    expired = token_signer.sign(
        {"iss": ISSUER, "aud": "ls", "sub": "o", "grant_type": "refresh_token", "exp": now - 5}
    )
    assert token_signer.verify_refresh(expired, audience="ls") is None


def test_client_reads_expiry_from_the_jwt(signer: tuple[TokenSigner, Path]) -> None:
    token_signer, _ = signer
    token, lifetime = token_signer.access_token(subject="", audience="ls", access=[])
    assert abs(jwt_expiry(token, 5) - (time.time() + lifetime)) < 5
    assert abs(jwt_expiry("opaque", 5) - (time.time() + 5)) < 1


def test_issued_certificates_are_reused_only_under_the_same_ca(tmp_path: Path) -> None:
    ca_cert, ca_key = pki.create_ca(tmp_path)
    first = pki.issue(
        tmp_path / "p",
        "tls",
        ca_cert=str(ca_cert),
        ca_key_path=str(ca_key),
        common_name="x",
        server=True,
    )
    before = first.cert_path.read_bytes()
    again = pki.issue(
        tmp_path / "p",
        "tls",
        ca_cert=str(ca_cert),
        ca_key_path=str(ca_key),
        common_name="x",
        server=True,
    )
    assert again.cert_path.read_bytes() == before
    assert oct(first.key_path.stat().st_mode & 0o777) == "0o600"
    (tmp_path / "new").mkdir()
    new_cert, new_key = pki.create_ca(tmp_path / "new")
    renewed = pki.issue(
        tmp_path / "p",
        "tls",
        ca_cert=str(new_cert),
        ca_key_path=str(new_key),
        common_name="x",
        server=True,
    )
    assert renewed.cert_path.read_bytes() != before
