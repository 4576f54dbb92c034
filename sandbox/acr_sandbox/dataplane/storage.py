"""docker-registry's own files, read (and, for untagging, changed) in place.

docker-registry 2.8 has no API to list a repository's manifests, to untag, or to tell
when a tag was made, all of which ACR's metadata API and the referrers API need. Its
filesystem layout is stable and simple, so the loginServer reads it directly instead of
keeping a second record that could drift from it:

- ``repositories/<repo>/_manifests/revisions/sha256/<hex>/link``: a manifest of the repo;
- ``repositories/<repo>/_manifests/tags/<tag>/current/link``: the digest a tag names;
- ``blobs/sha256/<hh>/<hex>/data``: every blob and manifest body.

The times ACR reports are the link files' times (created: the first link of the tag or
manifest, updated: the current one). A manifest whose revision link was removed by a
DELETE no longer exists, even though its directory may stay behind.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

MAX_MANIFEST_BYTES = 4 * 1024 * 1024  # ACR's manifest size limit
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPOSITORY = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")


def valid_digest(value: str) -> bool:
    return bool(_DIGEST.match(value))


def valid_tag(value: str) -> bool:
    return bool(_TAG.match(value))


def valid_repository(value: str) -> bool:
    return len(value) <= 256 and bool(_REPOSITORY.match(value))


def iso(timestamp: float) -> str:
    """ACR's time format: UTC with seven fractional digits and a ``Z``."""
    moment = dt.datetime.fromtimestamp(timestamp, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0Z"


@dataclass(frozen=True)
class TagRecord:
    name: str
    digest: str
    created: float
    updated: float


@dataclass(frozen=True)
class ManifestRecord:
    digest: str
    created: float


class RegistryStorage:
    """One docker-registry's storage root (``<registry dir>/registry``)."""

    def __init__(self, root: Path) -> None:
        self._v2 = root / "docker" / "registry" / "v2"

    def _repo_dir(self, repository: str) -> Path:
        return self._v2 / "repositories" / repository

    def revisions_dir(self, repository: str) -> Path:
        return self._repo_dir(repository) / "_manifests" / "revisions" / "sha256"

    def repositories(self) -> list[str]:
        """Every repository holding at least one manifest, sorted as ACR lists them."""
        base = self._v2 / "repositories"
        found: list[str] = []
        for current, dirs, _files in os.walk(base):
            if "_manifests" in dirs:
                name = os.path.relpath(current, base)
                if self.manifests(name):
                    found.append(name)
            dirs[:] = [d for d in dirs if not d.startswith("_")]
        return sorted(found)

    def exists(self, repository: str) -> bool:
        return valid_repository(repository) and bool(self.manifests(repository))

    def manifests(self, repository: str) -> list[ManifestRecord]:
        found: list[ManifestRecord] = []
        try:
            entries = list(os.scandir(self.revisions_dir(repository)))
        except OSError:
            return found
        for entry in entries:
            try:
                stamp = os.stat(os.path.join(entry.path, "link")).st_mtime
            except OSError:
                continue  # deleted: the link goes, the directory may stay
            found.append(ManifestRecord(f"sha256:{entry.name}", stamp))
        return sorted(found, key=lambda m: m.digest)

    def has_manifest(self, repository: str, digest: str) -> bool:
        if not valid_digest(digest):
            return False
        return (self.revisions_dir(repository) / digest[7:] / "link").is_file()

    def manifest_created(self, repository: str, digest: str) -> float | None:
        try:
            return (self.revisions_dir(repository) / digest[7:] / "link").stat().st_mtime
        except OSError:
            return None

    def tags(self, repository: str) -> list[TagRecord]:
        base = self._repo_dir(repository) / "_manifests" / "tags"
        found: list[TagRecord] = []
        try:
            names = sorted(os.listdir(base))
        except OSError:
            return found
        for name in names:
            record = self.tag(repository, name)
            if record is not None:
                found.append(record)
        return found

    def tag(self, repository: str, name: str) -> TagRecord | None:
        if not valid_tag(name):
            return None
        tag_dir = self._repo_dir(repository) / "_manifests" / "tags" / name
        current = tag_dir / "current" / "link"
        try:
            digest = current.read_text().strip()
            updated = current.stat().st_mtime
        except OSError:
            return None
        if not self.has_manifest(repository, digest):
            return None
        created = updated
        try:
            for entry in os.scandir(tag_dir / "index" / "sha256"):
                try:
                    created = min(created, os.stat(os.path.join(entry.path, "link")).st_mtime)
                except OSError:
                    continue
        except OSError:
            pass
        return TagRecord(name, digest, created, updated)

    def blob(self, digest: str, limit: int = MAX_MANIFEST_BYTES) -> bytes | None:
        """A blob's bytes (a manifest body, a config), or None if absent or too large."""
        if not valid_digest(digest):
            return None
        path = self._v2 / "blobs" / "sha256" / digest[7:9] / digest[7:] / "data"
        try:
            if path.stat().st_size > limit:
                return None
            return path.read_bytes()
        except OSError:
            return None

    def untag(self, repository: str, name: str) -> bool:
        """Remove a tag (the manifest stays), as ACR's tag delete does."""
        if not valid_tag(name):
            return False
        tag_dir = self._repo_dir(repository) / "_manifests" / "tags" / name
        if not tag_dir.is_dir():
            return False
        shutil.rmtree(tag_dir, ignore_errors=True)
        return True

    def delete_repository(self, repository: str) -> None:
        shutil.rmtree(self._repo_dir(repository), ignore_errors=True)
