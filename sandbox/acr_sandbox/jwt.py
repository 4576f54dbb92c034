"""RS256 JSON Web Tokens, as Entra ID issues them and as workload identity presents them.

The sandbox signs its access tokens with one RSA key kept in the state dir (0600) and
publishes the public half as a JWKS, so a client may verify tokens exactly as it would
verify Entra's. Verification is the inverse: signature, expiry, not-before, audience.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from acr_sandbox.certs import write_private

CLOCK_SKEW_SECONDS = 300


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


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
    numbers = public.public_numbers()
    return {
        "kty": "RSA",
        "use": "sig",
        "alg": "RS256",
        "kid": key_id(public),
        "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
        "e": b64url(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
    }


def sign(key: rsa.RSAPrivateKey, claims: dict[str, Any]) -> str:
    header = {"typ": "JWT", "alg": "RS256", "kid": key_id(key.public_key())}
    signing_input = (
        f"{b64url(json.dumps(header, separators=(',', ':')).encode())}."
        f"{b64url(json.dumps(claims, separators=(',', ':')).encode())}"
    )
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url(signature)}"


def unverified_claims(token: str) -> dict[str, Any]:
    try:
        claims = json.loads(b64url_decode(token.split(".")[1]))
    except (IndexError, ValueError) as error:
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
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenInvalid("the token is not a JWT")
    try:
        header = json.loads(b64url_decode(parts[0]))
        signature = b64url_decode(parts[2])
    except ValueError as error:
        raise TokenInvalid("the token is malformed") from error
    if not isinstance(header, dict) or header.get("alg") != "RS256":
        raise TokenInvalid("the token is not signed with RS256")
    try:
        public.verify(
            signature, f"{parts[0]}.{parts[1]}".encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except InvalidSignature as error:
        raise TokenInvalid("the token signature is invalid") from error
    claims = unverified_claims(token)
    _check_lifetime(claims, time.time() if now is None else now)
    if audiences is not None and _normal(str(claims.get("aud", ""))) not in audiences:
        raise TokenInvalid("the token audience is not accepted")
    return claims


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
