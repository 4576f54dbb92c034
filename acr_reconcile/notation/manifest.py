"""The OCI manifest that carries a signature in the registry, and the checks on reading one.

A signature is an OCI image manifest with ``artifactType
application/vnd.cncf.notary.signature``, the empty config ``{}``, exactly one layer (the
envelope blob, ``application/jose+json`` or ``application/cose``), ``subject`` = the
signed manifest, and the annotation ``io.cncf.notary.x509chain.thumbprint#S256`` (SHA-256
fingerprints of the envelope's chain, leaf first). Readers also accept the older form
without ``artifactType`` whose config media type is the signature type. Every blob is
checked against its descriptor as received: digests are computed over the bytes fetched,
never over a re-encoding.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from acr_reconcile.notation.envelope import (
    MEDIA_TYPE_COSE,
    MEDIA_TYPE_JWS,
    SignatureFormat,
    format_time,
)
from acr_reconcile.notation.payload import Descriptor

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
SIGNATURE_ARTIFACT_TYPE = "application/vnd.cncf.notary.signature"
EMPTY_CONFIG_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY_CONFIG = b"{}"
THUMBPRINTS = "io.cncf.notary.x509chain.thumbprint#S256"
CREATED = "org.opencontainers.image.created"
MAX_MANIFEST_BYTES = 4 * 1024 * 1024  # notation-go's limit for a signature manifest
# The OCI referrers tag schema: where a registry has no referrers API, the index of a
# manifest's referrers is tagged ``sha256-<hex of its digest>``. Such a tag is bookkeeping
# of signatures, never an image tag: plan, prune and export never count it as one.
_REFERRER_TAG = re.compile(r"sha256-[0-9a-f]{64}")


def is_referrer_tag(tag: str) -> bool:
    """Whether ``tag`` is a referrers tag-schema index, not an image tag."""
    return _REFERRER_TAG.fullmatch(tag) is not None


def referrer_tag(digest: str) -> str:
    """The tag-schema tag of a ``sha256:<hex>`` manifest digest."""
    algorithm, _, hex_digest = digest.partition(":")
    tag = f"{algorithm}-{hex_digest}"
    if not is_referrer_tag(tag):
        raise SignatureManifestError(f"not a sha256 manifest digest: {digest[:80]!r}")
    return tag


class SignatureManifestError(ValueError):
    """The manifest is not a Notary Project signature for the expected subject."""


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _descriptor(media_type: str, data: bytes) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": sha256_digest(data), "size": len(data)}


@dataclass(frozen=True)
class SignatureArtifact:
    """What to push: the manifest bytes (pushed as is) and the blobs it references."""

    manifest: bytes
    config: bytes
    envelope: bytes

    @property
    def digest(self) -> str:
        return sha256_digest(self.manifest)


def signature_artifact(
    envelope: bytes,
    format: SignatureFormat,
    subject: Descriptor,
    chain_der: Sequence[bytes],
    signing_time: datetime,
) -> SignatureArtifact:
    """The signature manifest for ``envelope``, the OCI image-spec 1.1 form notation writes."""
    thumbprints = [hashlib.sha256(der).hexdigest() for der in chain_der]
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": SIGNATURE_ARTIFACT_TYPE,
        "config": {
            **_descriptor(EMPTY_CONFIG_TYPE, EMPTY_CONFIG),
            "data": base64.b64encode(EMPTY_CONFIG).decode(),
        },
        "layers": [_descriptor(format.media_type, envelope)],
        "subject": {
            "mediaType": subject.media_type,
            "digest": subject.digest,
            "size": subject.size,
        },
        "annotations": {
            THUMBPRINTS: json.dumps(thumbprints, separators=(",", ":")),
            CREATED: format_time(signing_time),
        },
    }
    data = json.dumps(manifest, separators=(",", ":")).encode()
    return SignatureArtifact(data, EMPTY_CONFIG, envelope)


@dataclass(frozen=True)
class SignatureLayer:
    """The envelope blob a signature manifest points at, and the chain it announces."""

    media_type: str
    digest: str
    size: int
    thumbprints: tuple[str, ...]


def _object(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SignatureManifestError(f"{what} must be a JSON object")
    return value


def read_signature_manifest(data: bytes, subject: Descriptor) -> SignatureLayer:
    """Check a fetched signature manifest and return its envelope layer."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise SignatureManifestError(f"the manifest is larger than {MAX_MANIFEST_BYTES} bytes")
    try:
        manifest = _object(json.loads(data), "the manifest")
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise SignatureManifestError("the manifest is not JSON") from None
    if manifest.get("mediaType") != OCI_MANIFEST:
        raise SignatureManifestError(f"the manifest's mediaType must be {OCI_MANIFEST}")
    config = _object(manifest.get("config"), "config")
    artifact_type = manifest.get("artifactType")
    if artifact_type == SIGNATURE_ARTIFACT_TYPE:
        if config.get("mediaType") != EMPTY_CONFIG_TYPE:
            raise SignatureManifestError(
                f"with artifactType the config must be {EMPTY_CONFIG_TYPE}"
            )
    elif artifact_type is not None or config.get("mediaType") != SIGNATURE_ARTIFACT_TYPE:
        raise SignatureManifestError("not a Notary Project signature manifest")
    layers = manifest.get("layers")
    if not isinstance(layers, list) or len(layers) != 1:
        raise SignatureManifestError("a signature manifest has exactly one layer")
    layer = _object(layers[0], "the layer")
    media_type, digest, size = layer.get("mediaType"), layer.get("digest"), layer.get("size")
    if media_type not in (MEDIA_TYPE_JWS, MEDIA_TYPE_COSE):
        raise SignatureManifestError(f"layer media type {media_type!r} is neither JWS nor COSE")
    if not isinstance(digest, str) or isinstance(size, bool) or not isinstance(size, int):
        raise SignatureManifestError("the layer descriptor needs a digest and a size")
    signed = _object(manifest.get("subject"), "subject")
    if (signed.get("digest"), signed.get("size"), signed.get("mediaType")) != (
        subject.digest,
        subject.size,
        subject.media_type,
    ):
        raise SignatureManifestError(
            f"the signature's subject is {signed.get('digest')}, not {subject.digest}"
        )
    annotations = manifest.get("annotations") or {}
    raw = annotations.get(THUMBPRINTS) if isinstance(annotations, dict) else None
    try:
        thumbprints = json.loads(raw) if isinstance(raw, str) else []
    except json.JSONDecodeError:
        thumbprints = []
    listed = tuple(t.lower() for t in thumbprints if isinstance(t, str))
    return SignatureLayer(media_type, digest, size, listed)


def check_blob(data: bytes, layer: SignatureLayer) -> None:
    """The fetched envelope is the blob the manifest names (digest over the bytes as read)."""
    if len(data) != layer.size or sha256_digest(data) != layer.digest.lower():
        raise SignatureManifestError(
            f"the envelope blob does not match its descriptor {layer.digest} ({layer.size} bytes)"
        )
