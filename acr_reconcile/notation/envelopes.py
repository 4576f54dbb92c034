"""An envelope by its format: the one place that knows both of them.

``envelope.py`` holds what the two formats share (the signed attributes, the request,
the parsed result) and ``cose.py`` and ``jws.py`` import it; this module sits above all
three, so signing and verifying choose a format here and no module imports the one that
imports it.
"""

from __future__ import annotations

from acr_reconcile.notation.cose import build_cose, parse_cose
from acr_reconcile.notation.envelope import (
    MEDIA_TYPE_COSE,
    MEDIA_TYPE_JWS,
    EnvelopeError,
    ParsedEnvelope,
    SignatureFormat,
    SignRequest,
)
from acr_reconcile.notation.jws import build_jws, parse_jws


def build_envelope(format: SignatureFormat, request: SignRequest) -> bytes:
    """The envelope bytes to push as the signature blob (media type ``format.media_type``)."""
    return build_cose(request) if format is SignatureFormat.COSE else build_jws(request)


def parse_envelope(media_type: str, data: bytes) -> ParsedEnvelope:
    """Decode an envelope by its layer media type; EnvelopeError for anything else."""
    if media_type == MEDIA_TYPE_COSE:
        return parse_cose(data)
    if media_type == MEDIA_TYPE_JWS:
        return parse_jws(data)
    raise EnvelopeError(f"signature media type {media_type!r} is neither JWS nor COSE")
