"""The signing side of an envelope: a key that signs digests and the chain that names it.

Envelope code hashes the exact bytes to be signed and hands the digest to a signer, which
returns the signature in wire form (PS*: RSASSA-PSS, salt = hash length; ES*: raw r||s).
That is the shape of Key Vault's ``CryptographyClient.sign(algorithm, digest)``, so a Key
Vault signer and the local PEM file signer here are interchangeable.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from acr_reconcile.notation.algorithms import (
    Algorithm,
    UnsupportedKey,
    algorithm_for_key,
    sign_digest_with,
)

MAX_PEM_BYTES = 1024 * 1024


class Signer(Protocol):
    """A signing key and its certificate chain (leaf first, ending with the root)."""

    def key_algorithm(self) -> Algorithm:
        """The algorithm the key signs with (it follows from the key type and size)."""
        ...

    def certificate_chain(self) -> Sequence[x509.Certificate]: ...

    def sign_digest(self, digest: bytes) -> bytes:
        """The signature over a digest of ``key_algorithm().hash``, in wire form."""
        ...


class SignerError(ValueError):
    """The key or certificate files cannot be used to sign."""


def _read(path: Path, what: str) -> bytes:
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_PEM_BYTES + 1)
    except OSError as error:
        raise SignerError(f"{path}: cannot read the {what}: {error.strerror or error}") from None
    if len(data) > MAX_PEM_BYTES:
        raise SignerError(f"{path}: the {what} file is larger than {MAX_PEM_BYTES} bytes")
    return data


def load_certificate_chain(path: Path) -> list[x509.Certificate]:
    """Every certificate of a PEM file, in file order (leaf first for a signing chain)."""
    data = _read(path, "certificate chain")
    try:
        chain = x509.load_pem_x509_certificates(data)
    except (ValueError, x509.InvalidVersion):
        raise SignerError(f"{path}: not a PEM certificate file") from None
    return chain


def _spki(key: object) -> bytes:
    encoded: bytes = key.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return encoded


class FileSigner:
    """A PEM private key and its PEM certificate chain on disk (development signing)."""

    def __init__(self, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
                 chain: Sequence[x509.Certificate]) -> None:  # fmt: skip
        if not chain:
            raise SignerError("the certificate chain is empty")
        try:
            self._algorithm = algorithm_for_key(key)
        except UnsupportedKey as error:
            raise SignerError(str(error)) from None
        if _spki(chain[0].public_key()) != _spki(key.public_key()):
            raise SignerError("the private key is not the key of the first (leaf) certificate")
        self._key = key
        self._chain = list(chain)

    @classmethod
    def from_files(cls, key_path: Path, chain_path: Path, passphrase: bytes | None = None
                   ) -> FileSigner:  # fmt: skip
        data = _read(key_path, "private key")
        try:
            key = serialization.load_pem_private_key(data, password=passphrase)
        except TypeError:
            raise SignerError(f"{key_path}: the key is encrypted; a passphrase is needed") from None
        except ValueError:
            # Never echo key material: the message names the file only.
            raise SignerError(
                f"{key_path}: not a PEM private key, or the passphrase does not open it"
            ) from None
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise SignerError(f"{key_path}: only RSA and EC keys sign Notary Project signatures")
        chain = load_certificate_chain(chain_path)  # its errors name the file
        try:
            return cls(key, chain)
        except SignerError as error:
            raise SignerError(f"{chain_path}: {error}") from None

    def key_algorithm(self) -> Algorithm:
        return self._algorithm

    def certificate_chain(self) -> Sequence[x509.Certificate]:
        return list(self._chain)

    def sign_digest(self, digest: bytes) -> bytes:
        return sign_digest_with(self._key, self._algorithm, digest)
