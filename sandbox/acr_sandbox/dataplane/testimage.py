"""A deterministic, minimal container image (one file in one layer) built from a seed.

Same seed, same bytes, same digest: demos and tests can create and re-create content
offline and still compare digests.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass


@dataclass(frozen=True)
class TestImage:
    config: bytes
    layer: bytes  # gzip-compressed tar


def _layer_tar(seed: str) -> bytes:
    payload = f"hello from {seed}\n".encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size, info.mtime, info.mode = len(payload), 0, 0o644
        tar.addfile(info, io.BytesIO(payload))
    return buffer.getvalue()


def build_test_image(seed: str) -> TestImage:
    tar = _layer_tar(seed)
    layer = gzip.compress(tar, mtime=0)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["/hello.txt"], "Labels": {"seed": seed}},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar).hexdigest()]},
        "history": [{"created_by": "acr-reconcile test image"}],
    }
    return TestImage(json.dumps(config, sort_keys=True).encode(), layer)


SCHEMA2 = "application/vnd.docker.distribution.manifest.v2+json"


def blob_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def manifest_bytes(image: TestImage) -> bytes:
    """The image's schema2 manifest; the config and layer blobs must be pushed first."""
    manifest = {
        "schemaVersion": 2,
        "mediaType": SCHEMA2,
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": len(image.config),
            "digest": blob_digest(image.config),
        },
        "layers": [
            {
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "size": len(image.layer),
                "digest": blob_digest(image.layer),
            }
        ],
    }
    return json.dumps(manifest, indent=3).encode()
