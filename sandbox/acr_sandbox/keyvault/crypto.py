"""Key material for the vaults: generation, JSON Web Keys (RFC 7517 as Key Vault spells
them), and the sign/verify algorithms of Key Vault's ``JsonWebKeySignatureAlgorithm``.

Key Vault signs a *digest* the client computed; ECDSA signatures come back as the
fixed-width ``r‖s`` of RFC 7518 (not DER), PSS uses a salt as long as the digest.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey

RSA_SIZES = (2048, 3072, 4096)
CURVES: dict[str, ec.EllipticCurve] = {
    "P-256": ec.SECP256R1(),
    "P-384": ec.SECP384R1(),
    "P-521": ec.SECP521R1(),
    "P-256K": ec.SECP256K1(),
}
_CURVE_NAMES = {type(c).__name__: n for n, c in CURVES.items()}
RSA_OPS = ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"]
EC_OPS = ["sign", "verify"]
KEY_TYPES = ("RSA", "RSA-HSM", "EC", "EC-HSM")


class CryptoError(ValueError):
    """The request asks for something the key or algorithm cannot do (Key Vault's 400)."""


@dataclass(frozen=True)
class Algorithm:
    hash: hashes.HashAlgorithm
    family: str  # "PS", "RS" or "ES"
    curve: str | None = None


ALGORITHMS: dict[str, Algorithm] = {
    "PS256": Algorithm(hashes.SHA256(), "PS"),
    "PS384": Algorithm(hashes.SHA384(), "PS"),
    "PS512": Algorithm(hashes.SHA512(), "PS"),
    "RS256": Algorithm(hashes.SHA256(), "RS"),
    "RS384": Algorithm(hashes.SHA384(), "RS"),
    "RS512": Algorithm(hashes.SHA512(), "RS"),
    "ES256": Algorithm(hashes.SHA256(), "ES", "P-256"),
    "ES384": Algorithm(hashes.SHA384(), "ES", "P-384"),
    "ES512": Algorithm(hashes.SHA512(), "ES", "P-521"),
    "ES256K": Algorithm(hashes.SHA256(), "ES", "P-256K"),
}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise CryptoError("The value is not base64url.") from None


def _int(data: int, width: int | None = None) -> str:
    length = width or max(1, (data.bit_length() + 7) // 8)
    return b64url(data.to_bytes(length, "big"))


def generate(kty: str, size: int | None, curve: str | None) -> PrivateKey:
    if kty.startswith("RSA"):
        size = size or 2048
        if size not in RSA_SIZES:
            raise CryptoError(f"The key size {size} is not supported; use 2048, 3072 or 4096.")
        return rsa.generate_private_key(public_exponent=65537, key_size=size)
    if kty.startswith("EC"):
        curve = curve or "P-256"
        if curve not in CURVES:
            raise CryptoError(f"The curve '{curve}' is not supported.")
        return ec.generate_private_key(CURVES[curve])
    raise CryptoError(f"The key type '{kty}' is not supported.")


def curve_name(key: PrivateKey | PublicKey) -> str | None:
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return _CURVE_NAMES[type(key.curve).__name__]
    return None


def public_jwk(key: PrivateKey, kid: str, kty: str, key_ops: list[str]) -> dict[str, object]:
    jwk: dict[str, object] = {"kid": kid, "kty": kty, "key_ops": key_ops}
    if isinstance(key, rsa.RSAPrivateKey):
        numbers = key.public_key().public_numbers()
        jwk |= {"n": _int(numbers.n), "e": _int(numbers.e)}
    else:
        point = key.public_key().public_numbers()
        width = (key.curve.key_size + 7) // 8
        jwk |= {"crv": curve_name(key), "x": _int(point.x, width), "y": _int(point.y, width)}
    return jwk


def _num(jwk: dict[str, object], field: str) -> int:
    value = jwk.get(field)
    if not isinstance(value, str) or not value:
        raise CryptoError(f"The key is missing '{field}'.")
    return int.from_bytes(unb64url(value), "big")


def from_jwk(jwk: dict[str, object]) -> PrivateKey:
    """A private key from an imported JWK (public-only keys cannot be imported here)."""
    kty = str(jwk.get("kty", ""))
    try:
        if kty.startswith("RSA"):
            public = rsa.RSAPublicNumbers(_num(jwk, "e"), _num(jwk, "n"))
            return rsa.RSAPrivateNumbers(
                _num(jwk, "p"),
                _num(jwk, "q"),
                _num(jwk, "d"),
                _num(jwk, "dp"),
                _num(jwk, "dq"),
                _num(jwk, "qi"),
                public,
            ).private_key()
        if kty.startswith("EC"):
            curve = CURVES.get(str(jwk.get("crv")))
            if curve is None:
                raise CryptoError(f"The curve '{jwk.get('crv')}' is not supported.")
            point = ec.EllipticCurvePublicNumbers(_num(jwk, "x"), _num(jwk, "y"), curve)
            return ec.EllipticCurvePrivateNumbers(_num(jwk, "d"), point).private_key()
    except ValueError as error:
        if isinstance(error, CryptoError):
            raise
        raise CryptoError(f"The key is not a valid {kty} key: {error}") from None
    raise CryptoError(f"The key type '{kty}' is not supported.")


def to_pem(key: PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def from_pem(pem: str) -> PrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise CryptoError("only RSA and EC keys are kept")
    return key


def _check(key: PrivateKey | PublicKey, name: str, digest: bytes) -> Algorithm:
    algorithm = ALGORITHMS.get(name)
    if algorithm is None:
        raise CryptoError(f"Invalid algorithm '{name}'.")
    is_rsa = isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey)
    if is_rsa != (algorithm.family in ("PS", "RS")):
        raise CryptoError(f"The algorithm '{name}' does not apply to this key type.")
    if algorithm.curve is not None and curve_name(key) != algorithm.curve:
        raise CryptoError(f"The algorithm '{name}' needs a key on curve {algorithm.curve}.")
    if len(digest) != algorithm.hash.digest_size:
        raise CryptoError(
            f"Invalid length of the digest for '{name}': {len(digest)} bytes, "
            f"expected {algorithm.hash.digest_size}."
        )
    return algorithm


def sign(key: PrivateKey, name: str, digest: bytes) -> bytes:
    algorithm = _check(key, name, digest)
    prehashed = utils.Prehashed(algorithm.hash)
    if isinstance(key, rsa.RSAPrivateKey):
        pad: padding.AsymmetricPadding = (
            padding.PSS(padding.MGF1(algorithm.hash), algorithm.hash.digest_size)
            if algorithm.family == "PS"
            else padding.PKCS1v15()
        )
        return key.sign(digest, pad, prehashed)
    der = key.sign(digest, ec.ECDSA(prehashed))
    r, s = utils.decode_dss_signature(der)
    width = (key.curve.key_size + 7) // 8
    return r.to_bytes(width, "big") + s.to_bytes(width, "big")


def verify(key: PublicKey, name: str, digest: bytes, signature: bytes) -> bool:
    algorithm = _check(key, name, digest)
    prehashed = utils.Prehashed(algorithm.hash)
    try:
        if isinstance(key, rsa.RSAPublicKey):
            pad: padding.AsymmetricPadding = (
                padding.PSS(padding.MGF1(algorithm.hash), algorithm.hash.digest_size)
                if algorithm.family == "PS"
                else padding.PKCS1v15()
            )
            key.verify(signature, digest, pad, prehashed)
            return True
        width = (key.curve.key_size + 7) // 8
        if len(signature) != 2 * width:
            return False
        r = int.from_bytes(signature[:width], "big")
        s = int.from_bytes(signature[width:], "big")
        key.verify(utils.encode_dss_signature(r, s), digest, ec.ECDSA(prehashed))
        return True
    except InvalidSignature:
        return False
