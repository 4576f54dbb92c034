"""Test content for a registry: a tiny valid image pushed through the tool's own client.

It lives with the tests, not on ``RegistryClient``: the tool never pushes images of its
own making, and the image builder is the sandbox's (its Docker Hub stand-in serves the
same deterministic images).
"""

from __future__ import annotations

from acr_reconcile.registry.client import RegistryClient
from acr_sandbox.dataplane.testimage import SCHEMA2, build_test_image, manifest_bytes


def push_test_image(client: RegistryClient, repository: str, tag: str, seed: str) -> str:
    """A schema2 image (config + one layer) made from ``seed``, pushed as ``tag``; its
    digest."""
    image = build_test_image(seed)
    client.push_blob(repository, image.config)
    client.push_blob(repository, image.layer)
    return client.push_manifest(repository, tag, manifest_bytes(image), SCHEMA2)
