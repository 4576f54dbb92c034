# ruff: noqa: E501  (descriptors read best on one line)
"""The signature manifest: what we push has the shape the specification and notation use,
and what we read is checked (form, one layer, subject, blob digest over the bytes read)."""

from __future__ import annotations

import hashlib
import json

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from acr_reconcile.notation.envelope import SignatureFormat, SignRequest
from acr_reconcile.notation.envelopes import build_envelope
from acr_reconcile.notation.manifest import (
    SignatureManifestError,
    check_blob,
    read_signature_manifest,
    signature_artifact,
)
from acr_reconcile.notation.payload import Descriptor
from tests.support.notation_certs import NOW, ca_chain

SUBJECT = Descriptor("application/vnd.oci.image.manifest.v1+json", "sha256:" + "9f" * 32, 525)


def _artifact() -> tuple[bytes, bytes, list[bytes]]:
    identity = ca_chain("p256")
    envelope = build_envelope(SignatureFormat.COSE, SignRequest(SUBJECT, identity.signer, NOW))
    chain = [c.public_bytes(Encoding.DER) for c in identity.chain]
    made = signature_artifact(envelope, SignatureFormat.COSE, SUBJECT, chain, NOW)
    assert made.digest == "sha256:" + hashlib.sha256(made.manifest).hexdigest()
    return made.manifest, envelope, chain


def test_the_manifest_has_the_notary_signature_shape() -> None:
    data, envelope, chain = _artifact()
    manifest = json.loads(data)
    assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert manifest["artifactType"] == "application/vnd.cncf.notary.signature"
    assert manifest["config"] == {
        "mediaType": "application/vnd.oci.empty.v1+json",
        "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
        "size": 2,
        "data": "e30=",
    }
    assert manifest["layers"] == [
        {"mediaType": "application/cose", "digest": "sha256:" + hashlib.sha256(envelope).hexdigest(), "size": len(envelope)}
    ]  # fmt: skip
    assert manifest["subject"] == {
        "mediaType": SUBJECT.media_type,
        "digest": SUBJECT.digest,
        "size": 525,
    }
    thumbprints = json.loads(manifest["annotations"]["io.cncf.notary.x509chain.thumbprint#S256"])
    assert thumbprints == [hashlib.sha256(der).hexdigest() for der in chain]
    assert manifest["annotations"]["org.opencontainers.image.created"] == "2026-12-01T12:00:00Z"


def test_reading_back_checks_the_subject_and_the_blob() -> None:
    data, envelope, _ = _artifact()
    layer = read_signature_manifest(data, SUBJECT)
    assert layer.media_type == "application/cose" and len(layer.thumbprints) == 3
    check_blob(envelope, layer)
    with pytest.raises(SignatureManifestError, match="does not match its descriptor"):
        check_blob(envelope[:-1] + b"\x00", layer)
    other = Descriptor(SUBJECT.media_type, "sha256:" + "00" * 32, 525)
    with pytest.raises(SignatureManifestError, match="subject is sha256:9f9f"):
        read_signature_manifest(data, other)


def test_the_legacy_form_is_read_and_other_shapes_are_refused() -> None:
    data, _, _ = _artifact()
    manifest = json.loads(data)
    legacy = {k: v for k, v in manifest.items() if k != "artifactType"}
    legacy["config"] = {**manifest["config"], "mediaType": "application/vnd.cncf.notary.signature"}
    assert read_signature_manifest(json.dumps(legacy).encode(), SUBJECT).size > 0
    two_layers = {**manifest, "layers": manifest["layers"] * 2}
    wrong_type = {**manifest, "artifactType": "application/vnd.example.sbom"}
    jwt_layer = {**manifest, "layers": [{**manifest["layers"][0], "mediaType": "application/jwt"}]}
    for bad, says in (
        (two_layers, "exactly one layer"),
        (wrong_type, "not a Notary Project signature manifest"),
        (jwt_layer, "neither JWS nor COSE"),
    ):
        with pytest.raises(SignatureManifestError, match=says):
            read_signature_manifest(json.dumps(bad).encode(), SUBJECT)
    with pytest.raises(SignatureManifestError, match="not JSON"):
        read_signature_manifest(b"\xff", SUBJECT)
