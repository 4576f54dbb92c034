"""The certificate rules of the Notary Project signature specification.

The chain in an envelope runs leaf -> intermediates -> root and must end in a
self-signed certificate; each certificate is issued by the next. The leaf is a code
signing certificate: critical keyUsage with digitalSignature and none of the encryption
or CA bits, not a CA, and no extended key usage that makes it a TLS, e-mail or
timestamping certificate. CA certificates carry critical basicConstraints ``cA=true``
(path length honoured) and critical keyUsage with keyCertSign. No SHA-1, RSA below 2048
bits or curves below P-256 anywhere. Other extensions are not evaluated (as notation).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from acr_reconcile.notation.identity import certificate_subject, format_dn

_FORBIDDEN_EKU = {
    ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE: "anyExtendedKeyUsage",
    ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth",
    ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth",
    ExtendedKeyUsageOID.EMAIL_PROTECTION: "emailProtection",
    ExtendedKeyUsageOID.TIME_STAMPING: "timeStamping",
    ExtendedKeyUsageOID.OCSP_SIGNING: "OCSPSigning",
}
MAX_CHAIN = 10


class ChainError(ValueError):
    """The certificate chain breaks a rule of the specification (named in the message)."""


def describe(certificate: x509.Certificate) -> str:
    return format_dn(certificate_subject(certificate)) or "(empty subject)"


def load_chain(ders: Sequence[bytes]) -> list[x509.Certificate]:
    if len(ders) > MAX_CHAIN:
        raise ChainError(f"the chain has {len(ders)} certificates; at most {MAX_CHAIN} are read")
    chain: list[x509.Certificate] = []
    for index, der in enumerate(ders):
        try:
            with warnings.catch_warnings():
                # cryptography warns about what RFC 5280 forbids (a negative serial, a
                # country name not 2 letters long): refuse it rather than print a warning
                warnings.simplefilter("error", UserWarning)
                certificate = x509.load_der_x509_certificate(der)
                # cryptography parses these lazily: a damaged key, extension or signature
                # algorithm would otherwise raise later, from deep inside a check
                certificate.public_key()
                _ = certificate.extensions, certificate.signature_hash_algorithm
                _ = certificate.subject.rdns, certificate.issuer.rdns
        except (
            ValueError,
            TypeError,
            UnsupportedAlgorithm,
            UserWarning,  # CryptographyDeprecationWarning among them
            x509.InvalidVersion,  # not a ValueError: an X.509 version other than v1-v3
        ):
            message = f"certificate {index} of the chain is not a usable DER X.509 certificate"
            raise ChainError(message) from None
        chain.append(certificate)
    return chain


_E = TypeVar("_E", bound=x509.ExtensionType)


def _extension(certificate: x509.Certificate, kind: type[_E]) -> x509.Extension[_E] | None:
    try:
        return certificate.extensions.get_extension_for_class(kind)
    except x509.ExtensionNotFound:
        return None


def _strength(certificate: x509.Certificate, where: str) -> None:
    key = certificate.public_key()
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < 2048:
        raise ChainError(f"{where}: RSA key of {key.key_size} bits (at least 2048 required)")
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.key_size < 256:
        raise ChainError(f"{where}: EC key on {key.curve.name} (P-256 or larger required)")
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise ChainError(f"{where}: {type(key).__name__} keys are not allowed")
    if isinstance(certificate.signature_hash_algorithm, hashes.SHA1):
        raise ChainError(f"{where}: signed with SHA-1")


def _leaf(certificate: x509.Certificate) -> None:
    where = f"leaf certificate {describe(certificate)}"
    usage = _extension(certificate, x509.KeyUsage)
    if usage is None or not usage.critical:
        raise ChainError(f"{where}: keyUsage must be present and critical")
    value = usage.value
    if not value.digital_signature:
        raise ChainError(f"{where}: keyUsage must include digitalSignature")
    forbidden = [
        name
        for name, present in (
            ("keyEncipherment", value.key_encipherment),
            ("dataEncipherment", value.data_encipherment),
            ("keyAgreement", value.key_agreement),
            ("keyCertSign", value.key_cert_sign),
            ("cRLSign", value.crl_sign),
            ("encipherOnly", value.key_agreement and value.encipher_only),
            ("decipherOnly", value.key_agreement and value.decipher_only),
        )
        if present
    ]
    if forbidden:
        raise ChainError(f"{where}: keyUsage must not include {', '.join(forbidden)}")
    constraints = _extension(certificate, x509.BasicConstraints)
    if constraints is not None and constraints.value.ca:
        raise ChainError(f"{where}: a signing certificate must not be a CA (basicConstraints cA)")
    usages = _extension(certificate, x509.ExtendedKeyUsage)
    if usages is not None:
        bad = [name for oid, name in _FORBIDDEN_EKU.items() if oid in usages.value]
        if bad:
            raise ChainError(f"{where}: extendedKeyUsage must not include {', '.join(bad)}")


def _ca(certificate: x509.Certificate, below: int) -> None:
    where = f"CA certificate {describe(certificate)}"
    constraints = _extension(certificate, x509.BasicConstraints)
    if constraints is None or not constraints.critical or not constraints.value.ca:
        raise ChainError(f"{where}: basicConstraints must be critical with cA true")
    path_length = constraints.value.path_length
    if path_length is not None and below > path_length:
        raise ChainError(f"{where}: pathLenConstraint {path_length} allows fewer intermediates")
    usage = _extension(certificate, x509.KeyUsage)
    if usage is None or not usage.critical or not usage.value.key_cert_sign:
        raise ChainError(f"{where}: keyUsage must be critical with keyCertSign")


def _issued_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def check_chain(chain: Sequence[x509.Certificate]) -> None:
    """Raise ChainError naming the first rule the chain breaks."""
    if not chain:
        raise ChainError("the envelope carries no certificate")
    for index, certificate in enumerate(chain):
        _strength(certificate, f"certificate {index} ({describe(certificate)})")
    _leaf(chain[0])
    for index in range(1, len(chain)):
        _ca(chain[index], below=index - 1)
    for index in range(len(chain) - 1):
        if not _issued_by(chain[index], chain[index + 1]):
            raise ChainError(
                f"certificate {index} ({describe(chain[index])}) is not issued by certificate "
                f"{index + 1} ({describe(chain[index + 1])})"
            )
    root = chain[-1]
    if root.issuer != root.subject or not _issued_by(root, root):
        raise ChainError(f"the chain must end in a self-signed root; {describe(root)} is not")


def validity_problem(chain: Sequence[x509.Certificate], now: datetime) -> str | None:
    """Why a certificate of the chain is not valid at ``now``, or None."""
    for certificate in chain:
        if now < certificate.not_valid_before_utc:
            return (
                f"certificate {describe(certificate)} is not valid before "
                f"{certificate.not_valid_before_utc:%Y-%m-%dT%H:%M:%SZ}"
            )
        if now > certificate.not_valid_after_utc:
            return (
                f"certificate {describe(certificate)} expired at "
                f"{certificate.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}"
            )
    return None
