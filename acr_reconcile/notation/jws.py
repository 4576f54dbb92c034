"""The JWS envelope: flattened JSON serialization with the notary protected headers.

Made: ``{"payload", "protected", "header", "signature"}``; the protected header holds
``alg``, ``cty``, ``crit`` and the ``io.cncf.notary.*`` signed attributes, the
unprotected header the certificate chain (``x5c``, standard base64 DER, leaf first) and
the signing agent. The signature covers ``ASCII(protected "." payload)`` exactly as
they are written in the envelope.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from acr_reconcile.notation.algorithms import Algorithm, digest
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
    format_time,
    parse_time,
)
from acr_reconcile.notation.payload import PAYLOAD_MEDIA_TYPE, payload_bytes

TOP_LEVEL = frozenset({"payload", "protected", "header", "signature"})
_STANDARD = frozenset({"alg", "cty", "crit"})


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: object, name: str) -> bytes:
    if not isinstance(text, str) or "=" in text:
        raise EnvelopeError(f"{name} must be unpadded base64url text")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise EnvelopeError(f"{name} is not base64url") from None


def _compact(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def build_jws(request: SignRequest) -> bytes:
    """A signed JWS envelope for ``request.target``."""
    algorithm = request.signer.key_algorithm()
    protected: dict[str, Any] = {
        "alg": algorithm.value,
        "cty": PAYLOAD_MEDIA_TYPE,
        "crit": critical_names(request),
        SIGNING_SCHEME: SigningScheme.X509.value,
        SIGNING_TIME: format_time(request.signing_time),
    }
    if request.expiry is not None:
        protected[EXPIRY] = format_time(request.expiry)
    protected_b64 = _b64url(_compact(protected))
    payload_b64 = _b64url(payload_bytes(request.target))
    signing_input = f"{protected_b64}.{payload_b64}".encode("ascii")
    signature = request.signer.sign_digest(digest(algorithm, signing_input))
    envelope = {
        "payload": payload_b64,
        "protected": protected_b64,
        "header": {
            "x5c": [base64.b64encode(der).decode("ascii") for der in chain_der(request.signer)],
            SIGNING_AGENT: request.signing_agent,
        },
        "signature": _b64url(signature),
    }
    return json.dumps(envelope, separators=(",", ":")).encode()


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise EnvelopeError("a JSON object repeats a key")
    return dict(pairs)


def _json(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(data, object_pairs_hook=_object_without_duplicates)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise EnvelopeError(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise EnvelopeError(f"{what} is not a JSON object")
    return value


def _chain(header: dict[str, Any]) -> tuple[bytes, ...]:
    x5c = header.get("x5c")
    if not isinstance(x5c, list) or not x5c or not all(isinstance(c, str) for c in x5c):
        raise EnvelopeError("header.x5c must be a non-empty list of base64 certificates")
    try:
        return tuple(base64.b64decode(c, validate=True) for c in x5c)
    except (binascii.Error, ValueError):
        raise EnvelopeError("header.x5c holds text that is not base64") from None


def parse_jws(data: bytes) -> ParsedEnvelope:
    """Decode a JWS envelope; raises EnvelopeError when it is not one."""
    if len(data) > MAX_ENVELOPE_BYTES:
        raise EnvelopeError(f"the envelope is larger than {MAX_ENVELOPE_BYTES} bytes")
    envelope = _json(data, "the envelope")
    if set(envelope) != TOP_LEVEL:
        raise EnvelopeError(
            "a JWS envelope has exactly the members payload, protected, header and signature"
        )
    protected_b64, payload_b64 = envelope["protected"], envelope["payload"]
    protected_raw = _unb64url(protected_b64, "protected")
    payload = _unb64url(payload_b64, "payload")
    signature = _unb64url(envelope["signature"], "signature")
    header = envelope["header"]
    if not isinstance(header, dict):
        raise EnvelopeError("header must be a JSON object")
    protected = _json(protected_raw, "the protected header")
    alg = protected.get("alg")
    if alg not in Algorithm.__members__:
        raise EnvelopeError(f"alg {alg!r} is not one of {', '.join(Algorithm)}")
    crit = protected.get("crit")
    if not isinstance(crit, list) or not all(isinstance(c, str) for c in crit):
        raise EnvelopeError("crit must be a list of header names")
    cty, scheme = protected.get("cty"), protected.get(SIGNING_SCHEME)
    if not isinstance(cty, str):
        raise EnvelopeError("cty must be a string")
    if not isinstance(scheme, str):
        raise EnvelopeError(f"{SIGNING_SCHEME} must be a string")
    times = {
        name: parse_time(protected[name], name)
        for name in (SIGNING_TIME, AUTHENTIC_SIGNING_TIME, EXPIRY)
        if name in protected
    }
    agent = header.get(SIGNING_AGENT)
    known = _STANDARD | {SIGNING_SCHEME, SIGNING_TIME, AUTHENTIC_SIGNING_TIME, EXPIRY}
    return ParsedEnvelope(
        format=SignatureFormat.JWS,
        algorithm=Algorithm(str(alg)),
        signing_input=f"{protected_b64}.{payload_b64}".encode("ascii"),
        signature=signature,
        payload=payload,
        content_type=cty,
        signing_scheme=scheme,
        critical=tuple(crit),
        protected_names=frozenset(protected),
        certificates=_chain(header),
        signing_time=times.get(SIGNING_TIME),
        authentic_signing_time=times.get(AUTHENTIC_SIGNING_TIME),
        expiry=times.get(EXPIRY),
        has_timestamp=TIMESTAMP_SIGNATURE in header,
        signing_agent=agent if isinstance(agent, str) else None,
        extended={k: v for k, v in protected.items() if k not in known},
    )
