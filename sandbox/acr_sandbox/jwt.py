"""RS256 JSON Web Tokens, as Entra ID issues them and as workload identity presents them.

The sandbox signs its access tokens with one RSA key kept in the state dir (0600) and
publishes the public half as a JWKS, so a client may verify tokens exactly as it would
verify Entra's. Verification is the inverse: signature, expiry, not-before, audience.
Encoding and signature checks are PyJWT's; the audience is compared here, normalised
(trailing ``/`` and case), as a string or a list of strings, both of which RFC 7519
section 4.1.3 allows (Kubernetes service account tokens presented by workload identity
carry a list).
"""

from __future__ import annotations

import base64
import hashlib
import time
from pathlib import Path
from typing import Any

import jwt as pyjwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from acr_sandbox.certs import write_private

CLOCK_SKEW_SECONDS = 300


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenInvalid(Exception):
    """Why a presented token is not acceptable (safe to show: never contains the token)."""


def load_signing_key(state_dir: Path) -> rsa.RSAPrivateKey:
    path = state_dir / "signing-key.pem"
    if not path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        write_private(path, pem)
    loaded = serialization.load_pem_private_key(path.read_bytes(), None)
    if not isinstance(loaded, rsa.RSAPrivateKey):
        raise ValueError(f"{path} is not an RSA key")
    return loaded


def key_id(public: rsa.RSAPublicKey) -> str:
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return b64url(hashlib.sha256(der).digest()[:16])


def jwk(public: rsa.RSAPublicKey) -> dict[str, Any]:
    found: dict[str, Any] = pyjwt.algorithms.RSAAlgorithm.to_jwk(public, as_dict=True)
    return {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": key_id(public)} | {
        "n": found["n"],
        "e": found["e"],
    }


def sign(key: rsa.RSAPrivateKey, claims: dict[str, Any]) -> str:
    return pyjwt.encode(claims, key, algorithm="RS256", headers={"kid": key_id(key.public_key())})


def unverified_claims(token: str) -> dict[str, Any]:
    try:
        claims: Any = pyjwt.decode(token, options={"verify_signature": False})
    except pyjwt.InvalidTokenError as error:
        raise TokenInvalid("the token is not a JWT") from error
    if not isinstance(claims, dict):
        raise TokenInvalid("the token payload is not an object")
    return claims


def verify(
    token: str,
    public: rsa.RSAPublicKey,
    *,
    audiences: frozenset[str] | None,
    now: float | None = None,
) -> dict[str, Any]:
    """The claims of ``token`` if its RS256 signature, lifetime and audience are right."""
    try:
        claims: dict[str, Any] = pyjwt.decode(
            token,
            public,
            algorithms=["RS256"],
            # lifetime and audience are checked below: against ``now``, and normalised
            options={"verify_exp": False, "verify_nbf": False, "verify_aud": False},
        )
    except pyjwt.InvalidAlgorithmError as error:
        raise TokenInvalid("the token is not signed with RS256") from error
    except pyjwt.InvalidSignatureError as error:
        raise TokenInvalid("the token signature is invalid") from error
    except pyjwt.InvalidTokenError as error:
        raise TokenInvalid("the token is malformed") from error
    _check_lifetime(claims, time.time() if now is None else now)
    if audiences is not None and not audiences & _audiences_of(claims):
        raise TokenInvalid("the token audience is not accepted")
    return claims


def _audiences_of(claims: dict[str, Any]) -> frozenset[str]:
    aud = claims.get("aud")
    values = aud if isinstance(aud, list) else [aud]
    return frozenset(_normal(v) for v in values if isinstance(v, str))


def _check_lifetime(claims: dict[str, Any], now: float) -> None:
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or now > exp + CLOCK_SKEW_SECONDS:
        raise TokenInvalid("the token is expired")
    nbf = claims.get("nbf")
    if isinstance(nbf, int | float) and now + CLOCK_SKEW_SECONDS < nbf:
        raise TokenInvalid("the token is not valid yet")


def _normal(audience: str) -> str:
    return audience.rstrip("/").lower()


def audience_set(*audiences: str) -> frozenset[str]:
    return frozenset(_normal(a) for a in audiences)


def load_public_pem(pem: str) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("federated credential keys must be RSA public keys")
    return key
