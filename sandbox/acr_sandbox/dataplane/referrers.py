"""OCI 1.1 referrers on the loginServer: ``GET /v2/<name>/referrers/<digest>``.

docker-registry 2.8 stores manifests that carry a ``subject`` (it keeps their bytes) but
has no referrers API, so the loginServer answers it. The index is derived from the
registry's own storage (see ``storage``): every manifest of the repository that names a
subject. It is never a second record that could drift: on a listing, new manifests
(pushed, imported, or present from before a restart) are read once, and manifests whose
revision link is gone are dropped. The directory's mtime tells whether anything was
added; deletes through the loginServer mark the repository for a full re-check.

Registries encrypted with a customer-managed key have no referrers API on ACR
("Container Registry features support the OCI Referrers API, except for the registry
encrypted via customer-managed keys"), so there the API answers 404 and pushes get no
``OCI-Subject``: clients fall back to the ``sha256-<hex>`` tag schema.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from acr_sandbox.dataplane.access import error
from acr_sandbox.dataplane.storage import RegistryStorage, valid_digest

INDEX_TYPE = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DEFAULT_PAGE = 100
MAX_PAGE = 1000


@dataclass(frozen=True)
class Referrer:
    """One descriptor of a referrers list (and the subject it points at)."""

    subject: str
    digest: str
    media_type: str
    size: int
    artifact_type: str | None
    annotations: dict[str, str] | None

    def descriptor(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "mediaType": self.media_type,
            "size": self.size,
            "digest": self.digest,
        }
        if self.artifact_type:
            out["artifactType"] = self.artifact_type
        if self.annotations:
            out["annotations"] = self.annotations
        return out


def subject_of(body: bytes) -> str | None:
    """The subject digest a manifest names, if it names a valid one."""
    return _parse(body, "")[0] if body else None


def _parse(body: bytes, digest: str) -> tuple[str | None, Referrer | None]:
    try:
        doc = json.loads(body)
    except ValueError:
        return None, None
    if not isinstance(doc, dict):
        return None, None
    subject = doc.get("subject")
    target = subject.get("digest") if isinstance(subject, dict) else None
    if not isinstance(target, str) or not valid_digest(target):
        return None, None
    is_index = "manifests" in doc
    media_type = doc.get("mediaType")
    if not isinstance(media_type, str) or not media_type:
        media_type = INDEX_TYPE if is_index else OCI_MANIFEST
    artifact_type = doc.get("artifactType")
    if not isinstance(artifact_type, str) or not artifact_type:
        config = doc.get("config")
        config_type = config.get("mediaType") if isinstance(config, dict) else None
        # the spec: an image manifest falls back to its config type, an index to nothing
        artifact_type = config_type if isinstance(config_type, str) and not is_index else None
    annotations = doc.get("annotations")
    clean = (
        {str(k): str(v) for k, v in annotations.items()} if isinstance(annotations, dict) else None
    )
    return target, Referrer(target, digest, media_type, len(body), artifact_type, clean)


@dataclass
class _RepoIndex:
    stamp: int = -1
    dirty: bool = True
    known: dict[str, Referrer | None] = field(default_factory=dict)
    by_subject: dict[str, list[Referrer]] = field(default_factory=dict)
    rendered: dict[tuple[str, str, str, int], tuple[bytes, dict[str, str]]] = field(
        default_factory=dict
    )


class ReferrersIndex:
    """Per-repository referrers of one registry, kept current with its storage."""

    def __init__(self, storage: RegistryStorage) -> None:
        self.storage = storage
        self._repos: dict[str, _RepoIndex] = {}

    def changed(self, repository: str) -> None:
        """Something was deleted: re-check which manifests still exist on next use."""
        index = self._repos.get(repository)
        if index is not None:
            index.dirty = True

    def referrers(self, repository: str, subject: str) -> list[Referrer]:
        return self._current(repository).by_subject.get(subject, [])

    def rendered(
        self, repository: str, subject: str, wanted: str, last: str, size: int
    ) -> tuple[bytes, dict[str, str]] | None:
        """The response body and headers of one listing; None for an unknown repository.

        Bodies are kept until the repository changes: clients (and verifiers on every
        pull) ask for the same list over and over.
        """
        index = self._current(repository)
        if index.stamp < 0 and not index.known:
            return None
        key = (subject, wanted, last, size)
        found = index.rendered.get(key)
        if found is None:
            if len(index.rendered) >= 1024:
                index.rendered.clear()
            found = render(index.by_subject.get(subject, []), repository, subject, *key[1:])
            index.rendered[key] = found
        return found[0], dict(found[1])

    def _current(self, repository: str) -> _RepoIndex:
        index = self._repos.setdefault(repository, _RepoIndex())
        revisions = self.storage.revisions_dir(repository)
        try:
            stamp = os.stat(revisions).st_mtime_ns
        except OSError:
            stamp = -2
        if stamp == index.stamp and not index.dirty:
            return index
        if not index.dirty:
            index.stamp = stamp
            self._added(repository, index)
            return index
        index.stamp, index.dirty = stamp, False
        present = {m.digest for m in self.storage.manifests(repository)}
        for digest in list(index.known):
            if digest not in present:
                del index.known[digest]
        for digest in present - index.known.keys():
            body = self.storage.blob(digest)
            index.known[digest] = _parse(body, digest)[1] if body else None
        grouped: dict[str, list[Referrer]] = {}
        for found in index.known.values():
            if found is not None:
                grouped.setdefault(found.subject, []).append(found)
        index.by_subject = {k: sorted(v, key=lambda r: r.digest) for k, v in grouped.items()}
        index.rendered = {}
        return index

    def _added(self, repository: str, index: _RepoIndex) -> None:
        """Only additions since the last look (nothing was deleted through the
        loginServer): read the new manifests alone. Re-reading every manifest of the
        repository on each push made signing N tags cost N² (each signature's push is
        followed by the next tag's listing)."""
        revisions = self.storage.revisions_dir(repository)
        try:
            names = [entry.name for entry in os.scandir(revisions)]
        except OSError:
            return
        touched: set[str] = set()
        for name in names:
            digest = f"sha256:{name}"
            if digest in index.known or not os.path.exists(os.path.join(revisions, name, "link")):
                continue  # known, or not (yet) a manifest: as storage.manifests() counts
            body = self.storage.blob(digest)
            found = _parse(body, digest)[1] if body else None
            index.known[digest] = found
            if found is not None:
                touched.add(found.subject)
                index.by_subject[found.subject] = [*index.by_subject.get(found.subject, ()), found]
        for subject in touched:
            index.by_subject[subject] = sorted(index.by_subject[subject], key=lambda r: r.digest)
        index.rendered = {}


def _page_size(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return DEFAULT_PAGE
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if 0 < value <= MAX_PAGE else None


def listing(
    request: web.Request, index: ReferrersIndex, repository: str, subject: str
) -> web.Response:
    """The referrers list of ``subject``: filtered by ``artifactType``, paged by ``Link``."""
    if not valid_digest(subject):
        return error(400, "DIGEST_INVALID", f"invalid digest '{subject}'", {"digest": subject})
    size = _page_size(request.query.get("n"))
    if size is None:
        return error(400, "PAGINATION_NUMBER_INVALID", f"n must be between 1 and {MAX_PAGE}")
    wanted, last = request.query.get("artifactType") or "", request.query.get("last") or ""
    rendered = index.rendered(repository, subject, wanted, last, size)
    if rendered is None:
        return error(404, "NAME_UNKNOWN", f"repository '{repository}' is not known")
    body, headers = rendered
    return web.Response(body=body, content_type=INDEX_TYPE, headers=headers)


def render(
    found: list[Referrer], repository: str, subject: str, wanted: str, last: str, size: int
) -> tuple[bytes, dict[str, str]]:
    headers: dict[str, str] = {}
    if wanted:
        found = [r for r in found if r.artifact_type == wanted]
        headers["OCI-Filters-Applied"] = "artifactType"
    if last:
        found = [r for r in found if r.digest > last]
    page = found[:size]
    if len(found) > size:
        query = {"n": str(size), "last": page[-1].digest}
        if wanted:
            query["artifactType"] = wanted
        headers["Link"] = f'</v2/{repository}/referrers/{subject}?{urlencode(query)}>; rel="next"'
    body = {
        "schemaVersion": 2,
        "mediaType": INDEX_TYPE,
        "manifests": [r.descriptor() for r in page],
    }
    return json.dumps(body, separators=(",", ":")).encode(), headers
