"""The six signature algorithms of the Notary Project and how each is computed.

The algorithm is never chosen: it follows from the key (RSA 2048/3072/4096 -> PS256/384/
512, EC P-256/384/521 -> ES256/384/512), and a verifier derives it from the leaf
certificate and refuses an envelope whose header names another one, so a signature
cannot be re-labelled with a weaker algorithm. RSA signatures are RSASSA-PSS with MGF1 of
the same hash and a salt as long as the hash; ECDSA signatures are the raw ``r || s``
pair of fixed width (JWS and COSE both use it, and Key Vault returns it), not DER.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils


class Algorithm(StrEnum):
    PS256 = "PS256"
    PS384 = "PS384"
    PS512 = "PS512"
    ES256 = "ES256"
    ES384 = "ES384"
    ES512 = "ES512"

    @property
    def hash(self) -> hashes.HashAlgorithm:
        bits = self.value[2:]
        return {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}[bits]

    @property
    def cose_id(self) -> int:
        return COSE_IDS[self]

    @property
    def is_rsa(self) -> bool:
        return self.value.startswith("PS")


COSE_IDS = {
    Algorithm.PS256: -37,
    Algorithm.PS384: -38,
    Algorithm.PS512: -39,
    Algorithm.ES256: -7,
    Algorithm.ES384: -35,
    Algorithm.ES512: -36,
}
ALGORITHM_BY_COSE_ID = {value: key for key, value in COSE_IDS.items()}
_RSA_SIZES = {2048: Algorithm.PS256, 3072: Algorithm.PS384, 4096: Algorithm.PS512}
_CURVES = {"secp256r1": Algorithm.ES256, "secp384r1": Algorithm.ES384, "secp521r1": Algorithm.ES512}
_EC_WIDTH = {Algorithm.ES256: 32, Algorithm.ES384: 48, Algorithm.ES512: 66}


class UnsupportedKey(ValueError):
    """A key the Notary Project signature specification does not allow."""


def algorithm_for_key(key: Any) -> Algorithm:
    """The algorithm a public (or private) key signs with, or UnsupportedKey."""
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        algorithm = _RSA_SIZES.get(key.key_size)
        if algorithm is None:
            raise UnsupportedKey(
                f"RSA keys must be 2048, 3072 or 4096 bits; this is {key.key_size}"
            )
        return algorithm
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        algorithm = _CURVES.get(key.curve.name)
        if algorithm is None:
            raise UnsupportedKey(f"EC keys must be P-256, P-384 or P-521; this is {key.curve.name}")
        return algorithm
    raise UnsupportedKey(f"{type(key).__name__} keys cannot sign Notary Project signatures")


def digest(algorithm: Algorithm, data: bytes) -> bytes:
    """The hash of ``data`` that ``algorithm`` signs (what Key Vault's sign takes)."""
    hasher = hashes.Hash(algorithm.hash)
    hasher.update(data)
    return hasher.finalize()


def _pss_for(algorithm: Algorithm) -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(algorithm.hash), salt_length=algorithm.hash.digest_size)


def sign_digest_with(private_key: Any, algorithm: Algorithm, hashed: bytes) -> bytes:
    """Sign a precomputed digest with a local key, in the wire form of ``algorithm``."""
    prehashed = utils.Prehashed(algorithm.hash)
    if algorithm.is_rsa:
        signature: bytes = private_key.sign(hashed, _pss_for(algorithm), prehashed)
        return signature
    der = private_key.sign(hashed, ec.ECDSA(prehashed))
    r, s = utils.decode_dss_signature(der)
    width = _EC_WIDTH[algorithm]
    return r.to_bytes(width, "big") + s.to_bytes(width, "big")


def verify_signature(public_key: Any, algorithm: Algorithm, data: bytes, signature: bytes) -> bool:
    """Whether ``signature`` over ``data`` verifies with ``public_key`` under ``algorithm``."""
    try:
        if algorithm.is_rsa:
            public_key.verify(signature, data, _pss_for(algorithm), algorithm.hash)
            return True
        width = _EC_WIDTH[algorithm]
        if len(signature) != 2 * width:
            return False
        r = int.from_bytes(signature[:width], "big")
        s = int.from_bytes(signature[width:], "big")
        der = utils.encode_dss_signature(r, s)
        public_key.verify(der, data, ec.ECDSA(algorithm.hash))
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False
