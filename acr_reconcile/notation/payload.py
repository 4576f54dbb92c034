"""The signed payload: a descriptor of the target manifest, as the Notary Project defines it.

``{"targetArtifact": {"mediaType", "digest", "size", "annotations"?}}`` with media type
``application/vnd.cncf.notary.payload.v1+json``. A verifier compares media type, digest
and size with the manifest it resolved; annotations are user metadata (the tag, a build
id) that travel signed but are not part of that comparison.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PAYLOAD_MEDIA_TYPE = "application/vnd.cncf.notary.payload.v1+json"
MAX_PAYLOAD_BYTES = 1024 * 1024
_DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")


class PayloadError(ValueError):
    """The payload is not a Notary Project payload."""


@dataclass(frozen=True)
class Descriptor:
    """An OCI descriptor of the manifest a signature is about."""

    media_type: str
    digest: str
    size: int
    annotations: Mapping[str, str] = field(default_factory=dict)

    def same_target(self, other: Descriptor) -> bool:
        """What a verifier compares: media type, digest and size (not annotations)."""
        return (self.media_type, self.digest, self.size) == (
            other.media_type,
            other.digest,
            other.size,
        )


def payload_bytes(target: Descriptor) -> bytes:
    """The payload to sign: compact JSON, fields in the spec's order."""
    artifact: dict[str, Any] = {
        "mediaType": target.media_type,
        "digest": target.digest,
        "size": target.size,
    }
    if target.annotations:
        artifact["annotations"] = dict(target.annotations)
    return json.dumps({"targetArtifact": artifact}, separators=(",", ":")).encode()


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise PayloadError("the payload repeats a JSON key")
    return dict(pairs)


def parse_payload(data: bytes) -> Descriptor:
    """The target descriptor of a payload, checked field by field."""
    if len(data) > MAX_PAYLOAD_BYTES:
        raise PayloadError(f"the payload is larger than {MAX_PAYLOAD_BYTES} bytes")
    try:
        document = json.loads(data, object_pairs_hook=_reject_duplicates)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PayloadError(f"the payload is not JSON ({error})") from None
    target = document.get("targetArtifact") if isinstance(document, dict) else None
    if not isinstance(target, dict):
        raise PayloadError("the payload has no targetArtifact object")
    media_type, digest, size = target.get("mediaType"), target.get("digest"), target.get("size")
    if not isinstance(media_type, str) or not media_type:
        raise PayloadError("targetArtifact.mediaType must be a non-empty string")
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise PayloadError("targetArtifact.digest must be a digest like sha256:<hex>")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise PayloadError("targetArtifact.size must be a non-negative integer")
    annotations = target.get("annotations", {})
    if not isinstance(annotations, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in annotations.items()
    ):
        raise PayloadError("targetArtifact.annotations must map strings to strings")
    return Descriptor(media_type, digest, size, annotations)
