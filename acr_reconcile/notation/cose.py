"""The COSE envelope: ``COSE_Sign1_Tagged`` (CBOR tag 18) with the notary headers.

Protected map: 1 (alg, COSE id), 2 (crit, text labels), 3 (content type) and the text
labels ``io.cncf.notary.signingScheme`` / ``signingTime`` / ``expiry``, times as CBOR tag 1
epoch integers. Unprotected map: 33 (x5chain, always an array of DER) and the signing
agent. The signature covers the CBOR ``["Signature1", protected, h'', payload]`` with the
protected header as the exact byte string found in the envelope.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import cbor2

from acr_reconcile.notation.algorithms import ALGORITHM_BY_COSE_ID, digest
from acr_reconcile.notation.envelope import (
    AUTHENTIC_SIGNING_TIME,
    EXPIRY,
    MAX_ENVELOPE_BYTES,
    SIGNING_AGENT,
    SIGNING_SCHEME,
    SIGNING_TIME,
    TIMESTAMP_SIGNATURE,
    EnvelopeError,
    ParsedEnvelope,
    SignatureFormat,
    SigningScheme,
    SignRequest,
    chain_der,
    critical_names,
)
from acr_reconcile.notation.payload import PAYLOAD_MEDIA_TYPE, payload_bytes

COSE_SIGN1_TAG = 18
EPOCH_TAG = 1
ALG, CRIT, CONTENT_TYPE, X5CHAIN = 1, 2, 3, 33


def _epoch(moment: datetime) -> cbor2.CBORTag:
    return cbor2.CBORTag(EPOCH_TAG, int(moment.timestamp()))


def sig_structure(protected: bytes, payload: bytes) -> bytes:
    """The bytes a COSE_Sign1 signature covers (no external data)."""
    return cbor2.dumps(["Signature1", protected, b"", payload])


def build_cose(request: SignRequest) -> bytes:
    """A signed COSE_Sign1 envelope for ``request.target``."""
    algorithm = request.signer.key_algorithm()
    protected_map: dict[Any, Any] = {
        ALG: algorithm.cose_id,
        CRIT: critical_names(request),
        CONTENT_TYPE: PAYLOAD_MEDIA_TYPE,
        SIGNING_SCHEME: SigningScheme.X509.value,
        SIGNING_TIME: _epoch(request.signing_time),
    }
    if request.expiry is not None:
        protected_map[EXPIRY] = _epoch(request.expiry)
    protected = cbor2.dumps(protected_map)
    payload = payload_bytes(request.target)
    signature = request.signer.sign_digest(digest(algorithm, sig_structure(protected, payload)))
    unprotected = {X5CHAIN: list(chain_der(request.signer)), SIGNING_AGENT: request.signing_agent}
    return cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [protected, unprotected, payload, signature]))


def _time(value: object, name: str) -> datetime:
    """A tag-1 time; cbor2 decodes tag 1 to an aware datetime."""
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    raise EnvelopeError(f"{name} must be a CBOR tag 1 (epoch) time")


def _loads(data: bytes, what: str) -> Any:
    try:
        return cbor2.loads(data)
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError):
        raise EnvelopeError(f"{what} is not valid CBOR") from None


def parse_cose(data: bytes) -> ParsedEnvelope:
    """Decode a COSE_Sign1 envelope; raises EnvelopeError when it is not one."""
    if len(data) > MAX_ENVELOPE_BYTES:
        raise EnvelopeError(f"the envelope is larger than {MAX_ENVELOPE_BYTES} bytes")
    message = _loads(data, "the envelope")
    if not isinstance(message, cbor2.CBORTag) or message.tag != COSE_SIGN1_TAG:
        raise EnvelopeError("the envelope is not a COSE_Sign1_Tagged message (CBOR tag 18)")
    body = message.value
    # cbor2 decodes arrays as tuples (6.x) or lists (5.x): accept both.
    if not isinstance(body, list | tuple) or len(body) != 4:
        raise EnvelopeError("a COSE_Sign1 message is an array of 4 items")
    protected_raw, unprotected, payload, signature = body
    if not isinstance(protected_raw, bytes) or not protected_raw:
        raise EnvelopeError("the protected header must be a non-empty byte string")
    # maps nested in arrays decode as cbor2's read-only frozendict
    if not isinstance(unprotected, Mapping):
        raise EnvelopeError("the unprotected header must be a map")
    if not isinstance(payload, bytes):
        raise EnvelopeError("the payload must be attached (a byte string)")
    if not isinstance(signature, bytes):
        raise EnvelopeError("the signature must be a byte string")
    protected = _loads(protected_raw, "the protected header")
    if not isinstance(protected, Mapping):
        raise EnvelopeError("the protected header must be a map")
    algorithm = ALGORITHM_BY_COSE_ID.get(protected.get(ALG))  # type: ignore[arg-type]
    if algorithm is None:
        raise EnvelopeError(f"alg {protected.get(ALG)!r} is not a Notary Project algorithm")
    crit = protected.get(CRIT)
    if not isinstance(crit, list | tuple) or not all(isinstance(c, str | int) for c in crit):
        raise EnvelopeError("crit must be an array of header labels")
    cty, scheme = protected.get(CONTENT_TYPE), protected.get(SIGNING_SCHEME)
    if not isinstance(cty, str):
        raise EnvelopeError("the content type (label 3) must be text")
    if not isinstance(scheme, str):
        raise EnvelopeError(f"{SIGNING_SCHEME} must be text")
    times = {
        name: _time(protected[name], name)
        for name in (SIGNING_TIME, AUTHENTIC_SIGNING_TIME, EXPIRY)
        if name in protected
    }
    chain = unprotected.get(X5CHAIN)
    if isinstance(chain, bytes):
        chain = (chain,)
    if (
        not isinstance(chain, list | tuple)
        or not chain
        or not all(isinstance(c, bytes) for c in chain)
    ):
        raise EnvelopeError("x5chain (label 33) must hold the certificate chain")
    agent = unprotected.get(SIGNING_AGENT)
    known = {ALG, CRIT, CONTENT_TYPE, SIGNING_SCHEME, SIGNING_TIME, AUTHENTIC_SIGNING_TIME, EXPIRY}
    return ParsedEnvelope(
        format=SignatureFormat.COSE,
        algorithm=algorithm,
        signing_input=sig_structure(protected_raw, payload),
        signature=signature,
        payload=payload,
        content_type=cty,
        signing_scheme=scheme,
        critical=tuple(str(c) for c in crit),
        protected_names=frozenset(str(k) for k in protected),
        certificates=tuple(chain),
        signing_time=times.get(SIGNING_TIME),
        authentic_signing_time=times.get(AUTHENTIC_SIGNING_TIME),
        expiry=times.get(EXPIRY),
        has_timestamp=TIMESTAMP_SIGNATURE in unprotected,
        signing_agent=agent if isinstance(agent, str) else None,
        extended={str(k): v for k, v in protected.items() if k not in known},
    )
