"""JWTs in the exact shape docker-registry 2.8 and notary-server 0.7 accept.

ES256 with a raw r‖s signature, the CA-issued signing certificate in ``x5c`` (standard
base64 DER), ``aud`` as a plain string equal to the backend's ``service`` (the
loginServer), and an ``exp`` (both servers treat a missing one as expired). Refresh
tokens use the same key: the token service is their only reader, and a single key means
one file to protect. PyJWT encodes and checks them (its ES256 is JWS's raw r‖s).
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt as pyjwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ISSUER = "acr-reconcile-sandbox"
ACCESS_TOKEN_SECONDS = 1200
REFRESH_TOKEN_SECONDS = 3 * 3600
REFRESH_GRANT = "refresh_token"


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
        self._header = {"typ": "JWT", "x5c": [base64.b64encode(der).decode()]}
        self._access_cache: dict[str, tuple[float, str, list[dict[str, Any]]]] = {}

    def sign(self, claims: Mapping[str, Any]) -> str:
        return pyjwt.encode(dict(claims), self._key, algorithm="ES256", headers=self._header)

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
        """Signature only: callers check issuer, audience and lifetime themselves."""
        try:
            claims: Any = pyjwt.decode(
                token,
                self._key.public_key(),
                algorithms=["ES256"],
                options={"verify_exp": False, "verify_nbf": False, "verify_aud": False},
            )
        except pyjwt.InvalidTokenError:
            return None
        return claims if isinstance(claims, dict) else None
