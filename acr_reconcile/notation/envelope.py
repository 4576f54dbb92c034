"""What the JWS and COSE envelopes have in common: header names, the request to sign, and
the parsed form the verifier works on.

A parsed envelope keeps the exact bytes that were signed (``signing_input``) and the
payload bytes as received: nothing is re-serialised before it is hashed, so a verifier
checks what the signer signed, not our re-encoding of it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from acr_reconcile import __version__
from acr_reconcile.notation.algorithms import Algorithm
from acr_reconcile.notation.payload import Descriptor
from acr_reconcile.notation.signer import Signer

MEDIA_TYPE_JWS = "application/jose+json"
MEDIA_TYPE_COSE = "application/cose"
MAX_ENVELOPE_BYTES = 32 * 1024 * 1024  # notation-go's limit for a signature blob

SIGNING_SCHEME = "io.cncf.notary.signingScheme"
SIGNING_TIME = "io.cncf.notary.signingTime"
AUTHENTIC_SIGNING_TIME = "io.cncf.notary.authenticSigningTime"
EXPIRY = "io.cncf.notary.expiry"
SIGNING_AGENT = "io.cncf.notary.signingAgent"
TIMESTAMP_SIGNATURE = "io.cncf.notary.timestampSignature"
VERIFICATION_PLUGIN = "io.cncf.notary.verificationPlugin"
VERIFICATION_PLUGIN_MIN_VERSION = "io.cncf.notary.verificationPluginMinVersion"
# Critical headers this verifier understands; any other critical name is a refusal.
UNDERSTOOD_CRITICAL = frozenset({SIGNING_SCHEME, AUTHENTIC_SIGNING_TIME, EXPIRY})


class SignatureFormat(StrEnum):
    COSE = "cose"
    JWS = "jws"

    @property
    def media_type(self) -> str:
        return MEDIA_TYPE_COSE if self is SignatureFormat.COSE else MEDIA_TYPE_JWS


class SigningScheme(StrEnum):
    X509 = "notary.x509"
    SIGNING_AUTHORITY = "notary.x509.signingAuthority"


class EnvelopeError(ValueError):
    """The envelope is malformed: not the structure the specification defines."""


@dataclass(frozen=True)
class SignRequest:
    """Everything an envelope is made of, besides the signature the signer returns."""

    target: Descriptor
    signer: Signer
    signing_time: datetime
    expiry: datetime | None = None
    signing_agent: str = f"acr-reconcile/{__version__}"


@dataclass(frozen=True)
class ParsedEnvelope:
    """An envelope decoded but not yet trusted: the verifier decides what it is worth."""

    format: SignatureFormat
    algorithm: Algorithm
    signing_input: bytes
    signature: bytes
    payload: bytes
    content_type: str
    signing_scheme: str
    critical: tuple[str, ...]
    protected_names: frozenset[str]
    certificates: tuple[bytes, ...]
    signing_time: datetime | None = None
    authentic_signing_time: datetime | None = None
    expiry: datetime | None = None
    has_timestamp: bool = False
    signing_agent: str | None = None
    extended: dict[str, object] = field(default_factory=dict)


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$")


def parse_time(value: object, name: str) -> datetime:
    """An RFC 3339 time (fractions and offsets allowed) as an aware UTC datetime."""
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise EnvelopeError(f"{name} must be an RFC 3339 time")
    try:
        return datetime.fromisoformat(value.upper().replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        raise EnvelopeError(f"{name} is not a valid time") from None


def format_time(moment: datetime) -> str:
    """Whole seconds in UTC with ``Z``: what every Notary Project verifier parses."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def critical_names(request: SignRequest) -> list[str]:
    names = [SIGNING_SCHEME]
    if request.expiry is not None:
        names.append(EXPIRY)
    return names


def chain_der(signer: Signer) -> Sequence[bytes]:
    from cryptography.hazmat.primitives.serialization import Encoding

    return [c.public_bytes(Encoding.DER) for c in signer.certificate_chain()]
