"""JWTs in the exact shape docker-registry 2.8 and notary-server 0.7 accept.

ES256 with a raw r‖s signature, the CA-issued signing certificate in ``x5c`` (standard
base64 DER), ``aud`` as a plain string equal to the backend's ``service`` (the
loginServer), and an ``exp`` (both servers treat a missing one as expired). Refresh
tokens use the same key: the token service is their only reader, and a single key means
one file to protect.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

ISSUER = "acr-reconcile-sandbox"
ACCESS_TOKEN_SECONDS = 1200
REFRESH_TOKEN_SECONDS = 3 * 3600
REFRESH_GRANT = "refresh_token"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class RefreshClaims:
    subject: str
    tenant: str
    audience: str


class TokenSigner:
    """Signs access and refresh tokens; verifies the refresh tokens it issued."""

    def __init__(self, cert_path: Path, key_path: Path) -> None:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise TypeError("the token-signing key must be an EC P-256 key")
        self._key = key
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        der = cert.public_bytes(serialization.Encoding.DER)
        self._header = {"typ": "JWT", "alg": "ES256", "x5c": [base64.b64encode(der).decode()]}
        self._access_cache: dict[str, tuple[float, str, list[dict[str, Any]]]] = {}

    def sign(self, claims: Mapping[str, Any]) -> str:
        head = _b64url(json.dumps(self._header, separators=(",", ":")).encode())
        body = _b64url(json.dumps(dict(claims), separators=(",", ":")).encode())
        signing_input = f"{head}.{body}".encode()
        r, s = decode_dss_signature(self._key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        return f"{head}.{body}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    def access_token(
        self, *, subject: str, audience: str, access: list[dict[str, Any]]
    ) -> tuple[str, int]:
        """A backend token and its lifetime in seconds."""
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "aud": audience,
            "exp": now + ACCESS_TOKEN_SECONDS,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(12),
            "access": access,
        }
        return self.sign(claims), ACCESS_TOKEN_SECONDS

    def refresh_token(self, *, subject: str, tenant: str, audience: str) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "tenant": tenant,
            "aud": audience,
            "grant_type": REFRESH_GRANT,
            "exp": now + REFRESH_TOKEN_SECONDS,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(12),
        }
        return self.sign(claims)

    def verify_refresh(self, token: str, *, audience: str) -> RefreshClaims | None:
        """The claims of a refresh token this service issued for ``audience``, else None.

        A refresh token from another registry's loginServer is refused, as on ACR.
        """
        claims = self._verified_claims(token)
        if claims is None or claims.get("grant_type") != REFRESH_GRANT:
            return None
        if claims.get("iss") != ISSUER or claims.get("aud") != audience:
            return None
        exp = claims.get("exp")
        if not isinstance(exp, int) or exp < time.time():
            return None
        return RefreshClaims(str(claims.get("sub", "")), str(claims.get("tenant", "")), audience)

    def verify_access(self, token: str, *, audience: str) -> list[dict[str, Any]] | None:
        """The ``access`` claim of a valid access token issued for ``audience``, else None.

        The loginServer checks tokens itself only for what it answers without a backend
        (ACR's metadata API, the referrers API); a verified token is remembered until it
        expires, since clients send the same one on every request.
        """
        now = time.time()
        known = self._access_cache.get(token)
        if known is not None:
            if known[0] >= now and known[1] == audience:
                return known[2]
            return None
        claims = self._verified_claims(token)
        if claims is None or claims.get("grant_type") is not None:
            return None
        exp, nbf = claims.get("exp"), claims.get("nbf", 0)
        if claims.get("iss") != ISSUER or claims.get("aud") != audience:
            return None
        if not isinstance(exp, int) or not isinstance(nbf, int) or exp < now or nbf > now + 60:
            return None
        access = claims.get("access")
        if not isinstance(access, list):
            return None
        entries = [a for a in access if isinstance(a, dict)]
        if len(self._access_cache) >= 4096:
            self._access_cache.clear()
        self._access_cache[token] = (float(exp), audience, entries)
        return entries

    def _verified_claims(self, token: str) -> dict[str, Any] | None:
        parts = token.split(".")
        if len(parts) != 3:
            return None
        try:
            raw = _b64url_decode(parts[2])
            if len(raw) != 64:
                return None
            signature = encode_dss_signature(
                int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
            )
            self._key.public_key().verify(
                signature, f"{parts[0]}.{parts[1]}".encode(), ec.ECDSA(hashes.SHA256())
            )
            claims = json.loads(_b64url_decode(parts[1]))
        except (ValueError, InvalidSignature):
            return None
        return claims if isinstance(claims, dict) else None
