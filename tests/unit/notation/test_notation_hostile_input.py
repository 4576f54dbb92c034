# ruff: noqa: E501  (strategies read best on one line)
"""Any bytes as an envelope, manifest or payload end in a verdict or a named error, never
an exception from deep inside a decoder: a registry can serve anything."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import cbor2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acr_reconcile.notation.envelope import (
    MEDIA_TYPE_COSE,
    MEDIA_TYPE_JWS,
    SignatureFormat,
    SignRequest,
)
from acr_reconcile.notation.envelopes import build_envelope
from acr_reconcile.notation.manifest import SignatureManifestError, read_signature_manifest
from acr_reconcile.notation.payload import Descriptor, PayloadError, parse_payload
from acr_reconcile.notation.verify import (
    NamedStore,
    StoreType,
    Verdict,
    VerificationPolicy,
    verify_envelope,
)
from tests.support.notation_certs import NOW, self_signed

TARGET = Descriptor("application/vnd.oci.image.manifest.v1+json", "sha256:" + "ab" * 32, 10)
IDENTITY = self_signed("p256")
POLICY = VerificationPolicy("p", (NamedStore(StoreType.CA, "p", (IDENTITY.root_der,)),), (None,))
GOOD = {
    fmt: build_envelope(fmt, SignRequest(TARGET, IDENTITY.signer, NOW)) for fmt in SignatureFormat
}
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

cbor_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.binary(max_size=20) | st.text(max_size=20) | st.floats(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8) | st.integers(), inner, max_size=4),
    max_leaves=12,
)  # fmt: skip
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)  # fmt: skip


def _result(media_type: str, data: bytes) -> Verdict:
    result = verify_envelope(media_type, data, TARGET, POLICY, NOW)
    assert result.reason
    return result.verdict


@SETTINGS
@given(st.binary(max_size=200))
def test_random_bytes_are_invalid_envelopes(data: bytes) -> None:
    assert _result(MEDIA_TYPE_COSE, data) is Verdict.INVALID
    assert _result(MEDIA_TYPE_JWS, data) is Verdict.INVALID


@SETTINGS
@given(st.data())
def test_mutated_envelopes_are_never_signed_and_never_crash(data: st.DataObject) -> None:
    fmt = data.draw(st.sampled_from(list(SignatureFormat)))
    good = bytearray(GOOD[fmt])
    index = data.draw(st.integers(0, len(good) - 1))
    good[index] ^= data.draw(st.integers(1, 255))
    verdict = _result(fmt.media_type, bytes(good))
    # a flipped byte in the unprotected header (signing agent text) may leave it valid
    assert verdict in (Verdict.INVALID, Verdict.UNTRUSTED, Verdict.SIGNED)


@SETTINGS
@given(cbor_values, cbor_values, cbor_values)
def test_cose_structures_of_any_shape(protected: Any, unprotected: Any, payload: Any) -> None:
    body = [cbor2.dumps(protected), unprotected, payload, b"sig"]
    data = cbor2.dumps(cbor2.CBORTag(18, body))
    assert _result(MEDIA_TYPE_COSE, data) is Verdict.INVALID


@SETTINGS
@given(json_values, json_values)
def test_jws_structures_of_any_shape(protected: Any, header: Any) -> None:
    import base64

    encoded = base64.urlsafe_b64encode(json.dumps(protected).encode()).rstrip(b"=").decode()
    envelope = {"payload": "e30", "protected": encoded, "header": header, "signature": "AA"}
    assert _result(MEDIA_TYPE_JWS, json.dumps(envelope).encode()) is Verdict.INVALID


@SETTINGS
@given(json_values)
def test_payloads_and_manifests_of_any_shape(value: Any) -> None:
    raw = json.dumps(value).encode()
    with contextlib.suppress(PayloadError):
        parse_payload(raw)
    with contextlib.suppress(SignatureManifestError):
        read_signature_manifest(raw, TARGET)
