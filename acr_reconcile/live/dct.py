"""The Docker Content Trust inventory of a registry: what DCT vouches for today.

A migration to Notary Project signatures must carry over every tag DCT signed, and only
those it signed validly for the manifest the registry still serves. The reading
(``DctReading``: every repository's verified trust entries, in every delegation, and the
manifests the registry serves for those tags) is a live fact; ``dct_inventory`` turns it
into the inventory without I/O, so it is tested from data like the planner.

Never trusted, always reported: a repository whose trust data fails verification (no
entry of it is believed, not even those of other roles), and an entry whose tag has since
moved to another manifest or size, or is gone from the registry (docker would refuse the
pull, so there is nothing DCT vouches for to carry over).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True)
class SignedEntry:
    """One tag in one verified role of a repository's trust data."""

    tag: str
    digest: str  # sha256:<hex>, as signed
    size: int  # manifest length in bytes, as signed
    role: str  # "targets", "targets/releases" or another delegation
    expires: datetime  # when the role's metadata expires


@dataclass(frozen=True)
class RepositoryDct:
    """What one repository's verified trust read gave (``error`` when it failed)."""

    repository: str
    gun: str
    entries: tuple[SignedEntry, ...] = ()
    root_key_id: str | None = None
    error: str | None = None  # why verification failed; then no entry is believed


@dataclass(frozen=True)
class DctReading:
    """Every repository with trust data and the manifests its signed tags point at now."""

    registry: str
    login_server: str
    read_at: datetime
    repositories: tuple[RepositoryDct, ...] = ()
    # (repository, tag) -> (digest, size) the registry serves, None when the tag is gone
    manifests: Mapping[tuple[str, str], tuple[str, int] | None] = field(default_factory=dict)
    # (repository, digest) -> the manifest's media type: the signed payload's descriptor
    media_types: Mapping[tuple[str, str], str] = field(default_factory=dict)


@dataclass(frozen=True, order=True)
class InventoryEntry:
    """A tag DCT signs validly for the manifest the registry serves: to carry over."""

    repository: str
    tag: str
    role: str
    digest: str
    size: int
    expires: datetime
    root_key_id: str


class ProblemKind(StrEnum):
    INVALID = "invalid"  # the repository's trust data fails verification
    MOVED = "moved"  # the tag now points at another manifest (or size) than signed
    GONE = "gone"  # the signed tag is no longer in the registry


@dataclass(frozen=True, order=True)
class InventoryProblem:
    """Trust data that is reported and never counted as trusted."""

    repository: str
    tag: str  # "" for a whole repository
    role: str  # "" for a whole repository
    kind: ProblemKind
    message: str


@dataclass(frozen=True)
class DctInventory:
    registry: str
    login_server: str
    read_at: datetime
    entries: tuple[InventoryEntry, ...] = ()
    problems: tuple[InventoryProblem, ...] = ()

    def digests(self) -> dict[tuple[str, str], tuple[str, ...]]:
        """(repository, digest) -> the tags DCT signs it under: what needs a signature."""
        found: dict[tuple[str, str], list[str]] = {}
        for entry in self.entries:
            tags = found.setdefault((entry.repository, entry.digest), [])
            if entry.tag not in tags:
                tags.append(entry.tag)
        return {key: tuple(tags) for key, tags in found.items()}


def dct_inventory(reading: DctReading) -> DctInventory:
    """The inventory of ``reading``: trusted entries and problems, each sorted."""
    entries: list[InventoryEntry] = []
    problems: list[InventoryProblem] = []
    for repo in reading.repositories:
        if repo.error is not None or repo.root_key_id is None:
            why = repo.error or "no root key id in the verified root"
            problems.append(
                InventoryProblem(
                    repo.repository,
                    "",
                    "",
                    ProblemKind.INVALID,
                    f"{repo.gun}: trust data fails verification ({why}); none of its "
                    "signatures is carried over",
                )
            )
            continue
        for entry in repo.entries:
            served = reading.manifests.get((repo.repository, entry.tag))
            problem = _mismatch(repo, entry, served)
            if problem is not None:
                problems.append(problem)
                continue
            entries.append(
                InventoryEntry(
                    repo.repository,
                    entry.tag,
                    entry.role,
                    entry.digest,
                    entry.size,
                    entry.expires,
                    repo.root_key_id,
                )
            )
    return DctInventory(
        reading.registry,
        reading.login_server,
        reading.read_at,
        tuple(sorted(entries)),
        tuple(sorted(problems)),
    )


def _mismatch(
    repo: RepositoryDct, entry: SignedEntry, served: tuple[str, int] | None
) -> InventoryProblem | None:
    where = f"{repo.gun}:{entry.tag} ({entry.role})"
    if served is None:
        return InventoryProblem(
            repo.repository,
            entry.tag,
            entry.role,
            ProblemKind.GONE,
            f"{where}: signed for {entry.digest}, but the registry has no such tag any more; "
            "not carried over",
        )
    if served != (entry.digest, entry.size):
        return InventoryProblem(
            repo.repository,
            entry.tag,
            entry.role,
            ProblemKind.MOVED,
            f"{where}: signed for {entry.digest} ({entry.size} bytes), but the tag now points "
            f"at {served[0]} ({served[1]} bytes); not carried over as trusted",
        )
    return None
