"""``sha256-<hex>`` tags index a manifest's signatures (OCI referrers tag schema): they are
bookkeeping, never image tags, so export does not adopt them as images."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from acr_reconcile.live.export import read_all_tags
from acr_reconcile.live.state import LiveRegistry, LiveTag, TagTrust
from acr_reconcile.notation.manifest import (
    SignatureManifestError,
    is_referrer_tag,
    referrer_tag,
)
from acr_reconcile.spec.models import ImageSpec

HEX = "a" * 64


def test_the_tag_schema_tag_of_a_digest() -> None:
    assert referrer_tag(f"sha256:{HEX}") == f"sha256-{HEX}"
    assert is_referrer_tag(f"sha256-{HEX}")
    for tag in ("sha256-" + "a" * 63, "sha256-" + "A" * 64, "latest", f"sha512-{HEX}", f"v-{HEX}"):
        assert not is_referrer_tag(tag), tag
    with pytest.raises(SignatureManifestError):
        referrer_tag("sha256:short")


class _Registry:
    def catalog(self) -> list[str]:
        return ["hello-world"]

    def tags(self, repository: str) -> list[str]:
        return ["v1", f"sha256-{HEX}", "latest"]


class _DataPlane:
    """The two reads export makes, answering as a registry without the referrers API."""

    def __init__(self) -> None:
        self.asked: list[list[str]] = []

    def registry(self, login_server: str) -> _Registry:
        return _Registry()

    def read(self, registry: LiveRegistry, images: Sequence[ImageSpec]) -> Any:
        tags = [t for image in images for t in image.tags]
        self.asked.append(tags)
        live = {
            ("hello-world", t): LiveTag("hello-world", t, None, None, TagTrust.UNSIGNED)
            for t in tags
        }
        return live, {}


def test_export_never_reads_a_referrer_tag_as_an_image_tag() -> None:
    plane = _DataPlane()
    registry = LiveRegistry(
        id="/x",
        name="r",
        resource_group="g",
        location="westeurope",
        sku="Premium",
        login_server="r.azurecr.io",
        admin_user_enabled=False,
        trust_status="disabled",
    )
    found = read_all_tags(plane)(registry)  # type: ignore[arg-type]
    assert [t.tag for t in found] == ["latest", "v1"]
    assert plane.asked == [["latest", "v1"]]
