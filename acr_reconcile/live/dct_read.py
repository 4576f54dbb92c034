"""Read a registry's Docker Content Trust for its inventory: the catalog, one verified
trust read per repository, and one manifest HEAD per signed tag (see live/dct.py); once
trust is disabled, the inventory file the migration wrote, and one HEAD per digest.

Unlike the plan's image reads, which cover the repositories a spec declares, this covers
every repository: a migration must not leave anything DCT vouched for unsigned.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from acr_reconcile.errors import TrustDataInvalid
from acr_reconcile.live.dct import DctReading, RepositoryDct, SignedEntry
from acr_reconcile.live.dct_file import find_inventory
from acr_reconcile.live.state import DctEvidence, LiveRegistry

if TYPE_CHECKING:
    from acr_reconcile.live.images import DataPlane


def read_dct(data_plane: DataPlane, registry: LiveRegistry) -> DctReading:
    """Every repository's trust entries and the manifests their tags point at now."""
    server = registry.login_server
    client = data_plane.registry(server)
    trust = data_plane.trust(server)
    repositories: list[RepositoryDct] = []
    manifests: dict[tuple[str, str], tuple[str, int] | None] = {}
    media_types: dict[tuple[str, str], str] = {}
    for repository in sorted(client.catalog()):
        gun = f"{server}/{repository}"
        try:
            found = trust.read(gun)
        except TrustDataInvalid as error:
            repositories.append(RepositoryDct(repository, gun, error=str(error)))
            continue
        if not found.exists:
            continue
        entries = tuple(
            SignedEntry(t.tag, f"sha256:{t.sha256_hex}", t.length, t.role, t.expires)
            for t in found.signed
            if t.expires is not None
        )
        repositories.append(RepositoryDct(repository, gun, entries, found.root_key_id))
        for tag in dict.fromkeys(e.tag for e in entries):
            ref = client.manifest(repository, tag)
            manifests[(repository, tag)] = (str(ref.digest), int(ref.size)) if ref else None
            if ref is not None:
                media_types[(repository, str(ref.digest))] = str(ref.media_type)
    return DctReading(
        registry.name, server, datetime.now(UTC), tuple(repositories), manifests, media_types
    )


def read_evidence(
    data_plane: DataPlane, registry: LiveRegistry, explicit: str | None
) -> DctEvidence | None:
    """The inventory file of a migration whose trust is disabled already, and the media
    type of each digest it carries (None where the registry no longer has the manifest)."""
    found = find_inventory(registry.name, registry.login_server, explicit)
    if found is None:
        return None
    path, inventory = found
    client = data_plane.registry(registry.login_server)
    media_types: dict[tuple[str, str], str | None] = {}
    for repository, digest in sorted(inventory.digests()):
        ref = client.manifest(repository, digest)
        media_types[(repository, digest)] = str(ref.media_type) if ref is not None else None
    return DctEvidence(str(path), inventory, media_types)
