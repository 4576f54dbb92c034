"""TUF keys as notary encodes them, and the four signature methods it verifies.

Notary identifies a key by the SHA-256 of its canonical JSON form, so the same EC key has
one ID as plain ``ecdsa`` (the key file's name) and another as ``ecdsa-x509`` inside a
root.json (the certificate embeds the GUN). ECDSA signatures are raw ``r||s``, not DER.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from acr_reconcile.trust.canonical import encode_canonical

X509_TYPES = frozenset({"ecdsa-x509", "rsa-x509"})
ROOT_CERT_YEARS = 10


@dataclass(frozen=True)
class PublicKey:
    """A TUF public key: ``public`` is the decoded ``keyval.public`` bytes."""

    keytype: str
    public: bytes

    def to_json(self) -> dict[str, Any]:
        b64 = base64.b64encode(self.public).decode()
        return {"keytype": self.keytype, "keyval": {"private": None, "public": b64}}

    @property
    def key_id(self) -> str:
        return _key_id(self.keytype, self.public)

    def verify(self, method: str, message: bytes, signature: bytes) -> bool:
        """True only when ``signature`` is a valid ``method`` signature by this key."""
        try:
            key = _crypto_key(self.keytype, self.public)
            return _verify(key, method.lower(), message, signature)
        except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
            return False

    def certificate(self) -> x509.Certificate | None:
        return _certificate(self.public) if self.keytype in X509_TYPES else None

    def canonical(self) -> PublicKey:
        """The plain key behind an x509 key: its ID names the private key file."""
        cert = self.certificate()
        if cert is None:
            return self
        spki = cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return PublicKey(self.keytype.removesuffix("-x509"), spki)

    @classmethod
    def from_json(cls, obj: Any) -> PublicKey:
        if not isinstance(obj, dict) or not isinstance(obj.get("keyval"), dict):
            raise ValueError("key is not an object with keyval")
        keytype, public = obj.get("keytype"), obj["keyval"].get("public")
        if not isinstance(keytype, str) or not isinstance(public, str):
            raise ValueError("key has no keytype or public value")
        key = cls(keytype, base64.b64decode(public, validate=True))
        if keytype in X509_TYPES:
            _readable_certificate(key.public)
        return key


@lru_cache(maxsize=1024)
def _key_id(keytype: str, public: bytes) -> str:
    return hashlib.sha256(encode_canonical(PublicKey(keytype, public).to_json())).hexdigest()


@lru_cache(maxsize=256)
def _certificate(pem: bytes) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem)
    except x509.InvalidVersion as exc:  # not a ValueError, unlike every other parse failure
        raise ValueError("certificate has an X.509 version other than v1-v3") from exc


def _readable_certificate(pem: bytes) -> None:
    """Refuse an x509 key whose certificate or key cannot be read when it is parsed, so the
    checks and the key store that use it later never meet an unreadable one."""
    try:
        _certificate(pem).public_key()
    except UnsupportedAlgorithm as exc:
        raise ValueError("certificate key algorithm is not supported") from exc


@lru_cache(maxsize=256)
def _crypto_key(keytype: str, public: bytes) -> Any:
    if keytype in X509_TYPES:
        return _certificate(public).public_key()
    if keytype == "ed25519":
        return ed25519.Ed25519PublicKey.from_public_bytes(public)
    if keytype in ("ecdsa", "rsa"):
        return serialization.load_der_public_key(public)
    raise ValueError(f"unsupported key type {keytype}")


def _verify(key: Any, method: str, message: bytes, signature: bytes) -> bool:
    if method == "ecdsa" and isinstance(key, ec.EllipticCurvePublicKey):
        size = (key.curve.key_size + 7) // 8
        if len(signature) != 2 * size:
            return False
        r, s = int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
        key.verify(encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256()))
    elif method == "eddsa" and isinstance(key, ed25519.Ed25519PublicKey):
        key.verify(signature, message)
    elif method == "rsapss" and isinstance(key, rsa.RSAPublicKey):
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        key.verify(signature, message, pss, hashes.SHA256())
    elif method == "rsapkcs1v15" and isinstance(key, rsa.RSAPublicKey):
        key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    else:
        return False
    return True


class SigningKey:
    """A private key able to sign TUF metadata (ECDSA P-256, as docker and notary make)."""

    def __init__(self, private: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> None:
        self.private = private
        spki = private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        kind = "ecdsa" if isinstance(private, ec.EllipticCurvePrivateKey) else "rsa"
        self.public = PublicKey(kind, spki)
        self.key_id = self.public.key_id

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    def sign(self, message: bytes, key_id: str | None = None) -> dict[str, str]:
        """One entry of ``signatures``, over ``message`` (the canonical ``signed``).

        ``key_id`` names the key as the role lists it (a root key is listed by its
        certificate's ID, not the plain key's).
        """
        if isinstance(self.private, ec.EllipticCurvePrivateKey):
            r, s = decode_dss_signature(self.private.sign(message, ec.ECDSA(hashes.SHA256())))
            size = (self.private.curve.key_size + 7) // 8
            raw, method = r.to_bytes(size, "big") + s.to_bytes(size, "big"), "ecdsa"
        else:
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
            raw, method = self.private.sign(message, pss, hashes.SHA256()), "rsapss"
        sig = base64.b64encode(raw).decode()
        return {"keyid": key_id or self.key_id, "method": method, "sig": sig}

    def __repr__(self) -> str:  # never show key material
        return f"SigningKey({self.key_id[:12]}…)"


def root_certificate_key(key: SigningKey, gun: str, now: datetime) -> PublicKey:
    """The self-signed ``CN=<GUN>`` certificate docker puts in root.json for a root key."""
    if not isinstance(key.private, ec.EllipticCurvePrivateKey):
        raise ValueError("root certificates are made for ECDSA keys only")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, gun)])
    usage = x509.KeyUsage(True, False, True, False, False, False, False, False, False)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.private.public_key())
        .serial_number(int.from_bytes(secrets.token_bytes(16), "big") >> 1)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=365 * ROOT_CERT_YEARS))
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key.private, hashes.SHA256())
    )
    return PublicKey("ecdsa-x509", cert.public_bytes(serialization.Encoding.PEM))
