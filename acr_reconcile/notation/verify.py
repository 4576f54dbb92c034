"""Verification of one signature, and the verdict for a tag, under a trust policy.

Order follows notation's: integrity first (the envelope decodes, the header's algorithm
is the leaf key's, the signature verifies over the bytes as received, the chain obeys the
specification, the critical headers are present and marked), then that the payload is
about this manifest, then authenticity (a certificate of the chain is in the trust store),
the trusted identity, the signature's expiry and the certificates' validity now.

Verdicts: ``signed`` (some signature passes everything), ``invalid`` (a signature fails
integrity or names another manifest: tampering, reported with what failed, never as
unsigned), ``untrusted`` (signatures are intact but none is trusted: store, identity,
expiry, validity, an unsupported critical header such as a verification plugin), and
``unsigned`` (no signature at all). RFC 3161 timestamps and revocation (CRL/OCSP) are not
verified: a countersignature is ignored, so every certificate must be valid now, and a
signature that only a timestamp would keep valid is ``untrusted``, saying so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from acr_reconcile.notation.algorithms import UnsupportedKey, algorithm_for_key, verify_signature
from acr_reconcile.notation.certs import ChainError, check_chain, describe, load_chain
from acr_reconcile.notation.certs import validity_problem as certificate_validity_problem
from acr_reconcile.notation.envelope import (
    AUTHENTIC_SIGNING_TIME,
    EXPIRY,
    SIGNING_SCHEME,
    SIGNING_TIME,
    UNDERSTOOD_CRITICAL,
    VERIFICATION_PLUGIN,
    EnvelopeError,
    ParsedEnvelope,
    SigningScheme,
)
from acr_reconcile.notation.envelopes import parse_envelope
from acr_reconcile.notation.identity import Dn, certificate_subject, format_dn, matches
from acr_reconcile.notation.payload import (
    PAYLOAD_MEDIA_TYPE,
    Descriptor,
    PayloadError,
    parse_payload,
)


class Verdict(StrEnum):
    SIGNED = "signed"
    UNTRUSTED = "untrusted"
    INVALID = "invalid"
    UNSIGNED = "unsigned"


class StoreType(StrEnum):
    CA = "ca"
    SIGNING_AUTHORITY = "signingAuthority"


@dataclass(frozen=True)
class NamedStore:
    type: StoreType
    name: str
    certificates: tuple[bytes, ...]  # DER


@dataclass(frozen=True)
class VerificationPolicy:
    """What a trust policy entry decides: its stores and identities (None = ``*``)."""

    name: str
    stores: tuple[NamedStore, ...]
    identities: tuple[Dn | None, ...]
    # the signing certificate could not be read (a plan by an identity without access to
    # the vault): a self-signed leaf of a trusted identity counts as that certificate.
    # Verdicts then do not need the vault; a key of the same subject would pass too, so
    # the plan says so, and apply (which reads the certificate) judges again.
    by_subject: bool = False


@dataclass(frozen=True)
class SignatureResult:
    verdict: Verdict
    reason: str
    signer: str | None = None  # the leaf subject, when the chain could be read
    signed_at: datetime | None = None
    notes: tuple[str, ...] = ()
    # untrusted only because of time: the signature or a certificate of its chain is
    # expired (or not yet valid) now; a signature that a re-sign would replace
    expired: bool = False


@dataclass(frozen=True)
class TagVerdict:
    verdict: Verdict
    results: tuple[SignatureResult, ...] = field(default_factory=tuple)

    @property
    def summary(self) -> str:
        if self.verdict is Verdict.UNSIGNED:
            return "no Notary Project signature"
        chosen = [r for r in self.results if r.verdict is self.verdict]
        return chosen[0].reason if chosen else self.verdict.value


class _Refusal(Exception):
    def __init__(self, verdict: Verdict, reason: str, expired: bool = False) -> None:
        super().__init__(reason)
        self.verdict = verdict
        self.reason = reason
        self.expired = expired


def _invalid(reason: str) -> _Refusal:
    return _Refusal(Verdict.INVALID, reason)


def _untrusted(reason: str, expired: bool = False) -> _Refusal:
    return _Refusal(Verdict.UNTRUSTED, reason, expired)


def _integrity(envelope: ParsedEnvelope) -> list[x509.Certificate]:
    if envelope.content_type != PAYLOAD_MEDIA_TYPE:
        raise _invalid(f"content type {envelope.content_type!r} is not {PAYLOAD_MEDIA_TYPE}")
    try:
        chain = load_chain(envelope.certificates)
    except ChainError as error:
        raise _invalid(str(error)) from None
    leaf_key = chain[0].public_key()
    try:
        expected = algorithm_for_key(leaf_key)
    except UnsupportedKey as error:
        raise _invalid(f"leaf certificate: {error}") from None
    if envelope.algorithm is not expected:
        raise _invalid(
            f"the header says {envelope.algorithm.value} but the leaf key signs {expected.value}"
        )
    if not verify_signature(leaf_key, expected, envelope.signing_input, envelope.signature):
        raise _invalid("the signature does not verify with the leaf certificate's key")
    try:
        check_chain(chain)
    except ChainError as error:
        raise _invalid(f"certificate chain: {error}") from None
    return chain


def _signed_attributes(envelope: ParsedEnvelope) -> None:
    critical = set(envelope.critical)
    if len(critical) != len(envelope.critical):
        raise _invalid("crit lists a header twice")
    for name in envelope.critical:
        if name not in envelope.protected_names:
            raise _invalid(f"crit names {name}, which the protected header does not carry")
    for name in (SIGNING_SCHEME, EXPIRY, AUTHENTIC_SIGNING_TIME):
        if name in envelope.protected_names and name not in critical:
            raise _invalid(f"{name} must be listed in crit")
    scheme = envelope.signing_scheme
    if scheme == SigningScheme.X509:
        if envelope.signing_time is None or envelope.authentic_signing_time is not None:
            raise _invalid(f"{scheme} needs {SIGNING_TIME} and no {AUTHENTIC_SIGNING_TIME}")
    elif scheme == SigningScheme.SIGNING_AUTHORITY:
        if envelope.authentic_signing_time is None:
            raise _invalid(f"{scheme} needs {AUTHENTIC_SIGNING_TIME}")
    else:
        raise _invalid(f"signing scheme {scheme!r} is not notary.x509 or its signingAuthority")
    unknown = [name for name in envelope.critical if name not in UNDERSTOOD_CRITICAL]
    if VERIFICATION_PLUGIN in unknown:
        plugin = envelope.extended.get(VERIFICATION_PLUGIN)
        raise _untrusted(
            f"the signature requires the verification plugin {plugin!r} (critical header "
            f"{VERIFICATION_PLUGIN}); plugins are not supported"
        )
    if unknown:
        raise _untrusted(f"unsupported critical header {unknown[0]!r}")


def _target(envelope: ParsedEnvelope, target: Descriptor) -> None:
    try:
        signed = parse_payload(envelope.payload)
    except PayloadError as error:
        raise _invalid(str(error)) from None
    if not signed.same_target(target):
        raise _invalid(
            f"the signature is for {signed.media_type} {signed.digest} ({signed.size} bytes), "
            f"not this manifest {target.media_type} {target.digest} ({target.size} bytes)"
        )


def _store_type(envelope: ParsedEnvelope) -> StoreType:
    if envelope.signing_scheme == SigningScheme.SIGNING_AUTHORITY:
        return StoreType.SIGNING_AUTHORITY
    return StoreType.CA


def _trust(
    envelope: ParsedEnvelope, chain: list[x509.Certificate], policy: VerificationPolicy
) -> None:
    kind = _store_type(envelope)
    stores = [s for s in policy.stores if s.type is kind]
    anchors = {der for store in stores for der in store.certificates}
    if not stores and not policy.by_subject:
        raise _untrusted(f"policy {policy.name!r} has no trust store of type {kind.value}")
    subject = certificate_subject(chain[0])
    self_signed = len(chain) == 1 and chain[0].issuer == chain[0].subject
    if not any(c.public_bytes(Encoding.DER) in anchors for c in chain) and not (
        policy.by_subject and self_signed
    ):
        names = ", ".join(f"{s.type.value}:{s.name}" for s in stores)
        raise _untrusted(f"no certificate of the chain is in the trust store ({names})")
    if not any(matches(identity, subject) for identity in policy.identities):
        raise _untrusted(f"signed by {format_dn(subject)}, which is not a trusted identity")


def _times(envelope: ParsedEnvelope, chain: list[x509.Certificate], now: datetime) -> None:
    if envelope.expiry is not None and now > envelope.expiry:
        raise _untrusted(
            f"the signature expired at {envelope.expiry:%Y-%m-%dT%H:%M:%SZ}", expired=True
        )
    problem = certificate_validity_problem(chain, now)
    if problem is not None:
        if envelope.has_timestamp:
            problem += "; the envelope's RFC 3161 timestamp is not verified by this tool"
        raise _untrusted(problem, expired=True)


def verify_envelope(
    media_type: str,
    data: bytes,
    target: Descriptor,
    policy: VerificationPolicy,
    now: datetime,
) -> SignatureResult:
    """The result of one signature blob (its layer media type and bytes) for ``target``."""
    signer: str | None = None
    signed_at: datetime | None = None
    try:
        try:
            envelope = parse_envelope(media_type, data)
        except EnvelopeError as error:
            raise _invalid(f"malformed envelope: {error}") from None
        signed_at = envelope.signing_time or envelope.authentic_signing_time
        chain = _integrity(envelope)
        signer = describe(chain[0])
        _signed_attributes(envelope)
        _target(envelope, target)
        _trust(envelope, chain, policy)
        _times(envelope, chain, now)
    except _Refusal as refusal:
        return SignatureResult(
            refusal.verdict, refusal.reason, signer, signed_at, expired=refusal.expired
        )
    notes = ("its RFC 3161 timestamp was not verified",) if envelope.has_timestamp else ()
    reason = f"signed by {signer} (trusted by policy {policy.name!r})"
    return SignatureResult(Verdict.SIGNED, reason, signer, signed_at, notes)


def tag_verdict(results: Sequence[SignatureResult]) -> TagVerdict:
    """One verdict from every signature of a manifest: any trusted one signs the tag;
    otherwise tampering outweighs mere distrust."""
    if not results:
        return TagVerdict(Verdict.UNSIGNED)
    for verdict in (Verdict.SIGNED, Verdict.INVALID, Verdict.UNTRUSTED):
        if any(r.verdict is verdict for r in results):
            return TagVerdict(verdict, tuple(results))
    raise AssertionError("a signature result is signed, invalid or untrusted")
