"""ACR's metadata API (data-plane spec 2021-07-01) on the loginServer: ``/acr/v1/…``.

``_catalog``; a repository's properties (GET, PATCH, DELETE); its tags and manifests,
each listed (``last``, ``n``, ``orderby``, ``Link``) and read, changed (PATCH of the
changeable attributes) or, for tags, deleted. What ACR derives from content comes from
docker-registry's storage (see ``storage``); the changeable attributes, which
docker-registry has no notion of, are kept in ``<registry dir>/attributes.json``.

Scopes follow ACR: reads need ``metadata_read``, PATCH ``metadata_write``, deletes
``delete`` on ``repository:<name>``; the catalog needs ``registry:catalog:*``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from acr_sandbox.dataplane.access import AccessCheck, error
from acr_sandbox.dataplane.storage import (
    RegistryStorage,
    TagRecord,
    iso,
    valid_digest,
    valid_repository,
    valid_tag,
)

CHANGEABLE = ("deleteEnabled", "writeEnabled", "listEnabled", "readEnabled")
DEFAULT_PAGE = 100
ORDERS = ("none", "timedesc", "timeasc")
MAX_PAGE = 1000
_ROUTE = re.compile(
    r"^/acr/v1/(?P<repo>.+?)(?:/(?P<kind>_tags|_manifests)(?:/(?P<ref>[^/]+))?)?/?$"
)
IMAGE_CONFIG_TYPES = frozenset(
    {
        "application/vnd.docker.container.image.v1+json",
        "application/vnd.oci.image.config.v1+json",
    }
)


class AttributeStore:
    """The changeable attributes of repositories, tags and manifests (default: all true)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._data: dict[str, dict[str, bool]] | None = None

    def _load(self) -> dict[str, dict[str, bool]]:
        if self._data is None:
            try:
                raw = json.loads(self._path.read_text())
            except (OSError, ValueError):
                raw = {}
            self._data = raw if isinstance(raw, dict) else {}
        return self._data

    def get(self, key: str) -> dict[str, bool]:
        stored = self._load().get(key, {})
        return {name: bool(stored.get(name, True)) for name in CHANGEABLE}

    def update(self, key: str, changes: dict[str, bool]) -> dict[str, bool]:
        data = self._load()
        data[key] = self.get(key) | changes
        self._save()
        return data[key]

    def forget(self, key: str) -> None:
        if self._load().pop(key, None) is not None:
            self._save()

    def forget_repository(self, repo: str) -> None:
        data = self._load()
        prefixes = (f"tag:{repo}:", f"manifest:{repo}@")
        for key in [k for k in data if k == _repo_key(repo) or k.startswith(prefixes)]:
            del data[key]
        self._save()

    def _save(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._data, indent=1, sort_keys=True))
        os.replace(tmp, self._path)


def _repo_key(repo: str) -> str:
    return f"repository:{repo}"


def _tag_key(repo: str, tag: str) -> str:
    return f"tag:{repo}:{tag}"


def _manifest_key(repo: str, digest: str) -> str:
    return f"manifest:{repo}@{digest}"


def _page_size(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return DEFAULT_PAGE
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if 0 < value <= MAX_PAGE else None


class MetadataApi:
    """The ``/acr/v1`` routes of one registry."""

    def __init__(
        self,
        login_server: str,
        storage: RegistryStorage,
        attributes: AttributeStore,
        access: AccessCheck,
        deleted: Callable[[str], None],
    ) -> None:
        self._ls = login_server
        self._storage = storage
        self._attributes = attributes
        self._access = access
        self._deleted = deleted  # tells the referrers index a repository lost content

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.path.rstrip("/") == "/acr/v1/_catalog":
            if request.method != "GET":
                return _unsupported(request)
            return self._catalog(request)
        match = _ROUTE.match(request.path)
        if match is None:
            return error(404, "NOT_FOUND", f"no such API: {request.path}")
        repo, kind, ref = match["repo"], match["kind"], match["ref"]
        if not valid_repository(repo):
            return error(400, "NAME_INVALID", f"invalid repository name '{repo}'")
        action = {"GET": "metadata_read", "PATCH": "metadata_write", "DELETE": "delete"}.get(
            request.method
        )
        if action is None:
            return _unsupported(request)
        denied = self._access.require(request, "repository", repo, [action])
        if denied is not None:
            return denied
        if not self._storage.exists(repo):
            message = "repository name not known to registry"
            return error(404, "NAME_UNKNOWN", message, {"name": repo})
        if kind is None:
            return await self._repository(request, repo)
        if kind == "_tags":
            return await (self._tag(request, repo, ref) if ref else self._tags(request, repo))
        return await (self._manifest(request, repo, ref) if ref else self._manifests(request, repo))

    # -- locks ----------------------------------------------------------------------------
    def _locked(self, keys: list[str], *, delete: bool) -> bool:
        """ACR's image locks: ``writeEnabled: false`` blocks updates and deletes,
        ``deleteEnabled: false`` deletes only."""
        for key in keys:
            attributes = self._attributes.get(key)
            if not attributes["writeEnabled"] or (delete and not attributes["deleteEnabled"]):
                return True
        return False

    def push_locked(self, repo: str, ref: str) -> bool:
        """Whether a manifest PUT to ``repo:ref`` would change a locked tag or repository."""
        keys = [_repo_key(repo)]
        keys.append(_manifest_key(repo, ref) if valid_digest(ref) else _tag_key(repo, ref))
        return self._locked(keys, delete=False)

    def delete_locked(self, repo: str, digest: str) -> bool:
        """Whether deleting manifest ``digest`` (and so its tags) would touch a lock."""
        tags = [t.name for t in self._storage.tags(repo) if t.digest == digest]
        keys = [_repo_key(repo), _manifest_key(repo, digest)]
        return self._locked(keys + [_tag_key(repo, t) for t in tags], delete=True)

    # -- catalog and repositories ---------------------------------------------------------
    def _catalog(self, request: web.Request) -> web.Response:
        denied = self._access.require(request, "registry", "catalog", ["*"])
        if denied is not None:
            return denied
        size = _page_size(request.query.get("n"))
        if size is None:
            return _bad_page()
        names = self._storage.repositories()
        last = request.query.get("last")
        if last:
            names = [n for n in names if n > last]
        page = names[:size]
        headers = {}
        if len(names) > size:
            headers["Link"] = _link("/acr/v1/_catalog", {"last": page[-1], "n": str(size)})
        return web.json_response({"repositories": page}, headers=headers)

    def _repository_body(self, repo: str) -> dict[str, Any]:
        manifests = self._storage.manifests(repo)
        tags = self._storage.tags(repo)
        created = min((m.created for m in manifests), default=0.0)
        updated = max([m.created for m in manifests] + [t.updated for t in tags], default=0.0)
        return {
            "registry": self._ls,
            "imageName": repo,
            "createdTime": iso(created),
            "lastUpdateTime": iso(updated),
            "manifestCount": len(manifests),
            "tagCount": len(tags),
            "changeableAttributes": self._attributes.get(_repo_key(repo)),
        }

    async def _repository(self, request: web.Request, repo: str) -> web.StreamResponse:
        if request.method == "GET":
            return web.json_response(self._repository_body(repo))
        if request.method == "PATCH":
            changes = await _changes(request)
            if isinstance(changes, web.Response):
                return changes
            self._attributes.update(_repo_key(repo), changes)
            return web.json_response(self._repository_body(repo))
        manifests = [m.digest for m in self._storage.manifests(repo)]
        tags = [t.name for t in self._storage.tags(repo)]
        keys = [_repo_key(repo)] + [_tag_key(repo, t) for t in tags]
        if self._locked(keys + [_manifest_key(repo, m) for m in manifests], delete=True):
            return disallowed()
        self._storage.delete_repository(repo)
        self._attributes.forget_repository(repo)
        self._deleted(repo)
        return web.json_response({"manifestsDeleted": manifests, "tagsDeleted": tags}, status=202)

    # -- tags -----------------------------------------------------------------------------
    def _tag_body(self, repo: str, tag: TagRecord) -> dict[str, Any]:
        return {
            "name": tag.name,
            "digest": tag.digest,
            "createdTime": iso(tag.created),
            "lastUpdateTime": iso(tag.updated),
            "signed": False,
            "changeableAttributes": self._attributes.get(_tag_key(repo, tag.name)),
        }

    async def _tags(self, request: web.Request, repo: str) -> web.StreamResponse:
        if request.method != "GET":
            return _unsupported(request)
        size = _page_size(request.query.get("n"))
        if size is None:
            return _bad_page()
        tags = self._storage.tags(repo)
        digest = request.query.get("digest")
        if digest:
            tags = [t for t in tags if t.digest == digest]
        tags = [t for t in tags if self._attributes.get(_tag_key(repo, t.name))["listEnabled"]]
        order = request.query.get("orderby", "") or "none"
        if order not in ORDERS:
            return _bad_order(order)
        if order != "none":
            tags.sort(key=lambda t: (t.updated, t.name), reverse=order == "timedesc")
        page, more = _after(tags, request.query.get("last"), size, lambda t: t.name)
        headers = {}
        if more:
            query = {"last": page[-1].name, "n": str(size), "orderby": order}
            headers["Link"] = _link(f"/acr/v1/{repo}/_tags", query)
        body = {
            "registry": self._ls,
            "imageName": repo,
            "tags": [self._tag_body(repo, t) for t in page],
        }
        return web.json_response(body, headers=headers)

    async def _tag(self, request: web.Request, repo: str, name: str) -> web.StreamResponse:
        tag = self._storage.tag(repo, name) if valid_tag(name) else None
        if tag is None:
            return error(404, "TAG_UNKNOWN", "the specified tag does not exist", {"tag": name})
        if request.method == "DELETE":
            if self._locked([_repo_key(repo), _tag_key(repo, name)], delete=True):
                return disallowed()
            self._storage.untag(repo, name)
            self._attributes.forget(_tag_key(repo, name))
            return web.Response(status=202)
        if request.method == "PATCH":
            changes = await _changes(request)
            if isinstance(changes, web.Response):
                return changes
            self._attributes.update(_tag_key(repo, name), changes)
        body = {"registry": self._ls, "imageName": repo, "tag": self._tag_body(repo, tag)}
        return web.json_response(body)

    # -- manifests ------------------------------------------------------------------------
    def _manifest_body(self, repo: str, digest: str, created: float) -> dict[str, Any]:
        tags = [t for t in self._storage.tags(repo) if t.digest == digest]
        body: dict[str, Any] = {
            "digest": digest,
            "imageSize": 0,
            "createdTime": iso(created),
            "lastUpdateTime": iso(max([created] + [t.updated for t in tags])),
            "tags": [t.name for t in tags],
            "changeableAttributes": self._attributes.get(_manifest_key(repo, digest)),
        }
        raw = self._storage.blob(digest)
        try:
            doc = json.loads(raw) if raw else {}
        except ValueError:
            doc = {}
        if not isinstance(doc, dict):
            return body
        if isinstance(doc.get("mediaType"), str):
            body["mediaType"] = doc["mediaType"]
        if isinstance(doc.get("manifests"), list):
            body["imageSize"] = len(raw or b"")
            body["references"] = [_platform(m) for m in doc["manifests"] if isinstance(m, dict)]
            return body
        found = doc.get("config")
        config: dict[str, Any] = found if isinstance(found, dict) else {}
        layers = [layer for layer in doc.get("layers") or [] if isinstance(layer, dict)]
        body["imageSize"] = sum(_size(d) for d in [config, *layers])
        if isinstance(config.get("mediaType"), str):
            body["configMediaType"] = config["mediaType"]
            if config["mediaType"] in IMAGE_CONFIG_TYPES:
                body |= self._platform_of(str(config.get("digest", "")))
        return body

    def _platform_of(self, config_digest: str) -> dict[str, Any]:
        raw = self._storage.blob(config_digest, limit=1024 * 1024)
        try:
            config = json.loads(raw) if raw else {}
        except ValueError:
            return {}
        if not isinstance(config, dict):
            return {}
        found = {k: config[k] for k in ("architecture", "os") if isinstance(config.get(k), str)}
        return found

    async def _manifests(self, request: web.Request, repo: str) -> web.StreamResponse:
        if request.method != "GET":
            return _unsupported(request)
        size = _page_size(request.query.get("n"))
        if size is None:
            return _bad_page()
        order = request.query.get("orderby", "") or "none"
        if order not in ORDERS:
            return _bad_order(order)
        bodies = [
            self._manifest_body(repo, m.digest, m.created) for m in self._storage.manifests(repo)
        ]
        bodies = [b for b in bodies if b["changeableAttributes"]["listEnabled"]]
        if order != "none":
            bodies.sort(
                key=lambda b: (b["lastUpdateTime"], b["digest"]), reverse=order == "timedesc"
            )
        page, more = _after(bodies, request.query.get("last"), size, lambda b: str(b["digest"]))
        headers = {}
        if more:
            query = {"last": str(page[-1]["digest"]), "n": str(size), "orderby": order}
            headers["Link"] = _link(f"/acr/v1/{repo}/_manifests", query)
        body = {"registry": self._ls, "imageName": repo, "manifests": page}
        return web.json_response(body, headers=headers)

    async def _manifest(self, request: web.Request, repo: str, ref: str) -> web.StreamResponse:
        if request.method == "DELETE":
            return _unsupported(request)
        digest = ref
        if not valid_digest(ref):
            tag = self._storage.tag(repo, ref) if valid_tag(ref) else None
            if tag is None:
                return error(404, "MANIFEST_UNKNOWN", f"manifest '{ref}' is not found")
            digest = tag.digest
        created = self._storage.manifest_created(repo, digest)
        if created is None:
            return error(404, "MANIFEST_UNKNOWN", f"manifest '{ref}' is not found")
        if request.method == "PATCH":
            changes = await _changes(request)
            if isinstance(changes, web.Response):
                return changes
            self._attributes.update(_manifest_key(repo, digest), changes)
        body = {
            "registry": self._ls,
            "imageName": repo,
            "manifest": self._manifest_body(repo, digest, created),
        }
        return web.json_response(body)


def _platform(descriptor: dict[str, Any]) -> dict[str, Any]:
    found = descriptor.get("platform")
    platform: dict[str, Any] = found if isinstance(found, dict) else {}
    out: dict[str, Any] = {"digest": str(descriptor.get("digest", ""))}
    for key in ("architecture", "os"):
        if isinstance(platform.get(key), str):
            out[key] = platform[key]
    return out


def _after(
    items: list[Any], last: str | None, size: int, name: Callable[[Any], str]
) -> tuple[list[Any], bool]:
    """The page after the item named ``last`` in this order (from the start if unnamed)."""
    start = 0
    if last:
        names = [name(i) for i in items]
        start = names.index(last) + 1 if last in names else 0
        if last not in names:
            items = [i for i in items if name(i) > last]
    rest = items[start:]
    return rest[:size], len(rest) > size


def _link(path: str, query: dict[str, str]) -> str:
    return f'<{path}?{urlencode(query)}>; rel="next"'


async def _changes(request: web.Request) -> dict[str, bool] | web.Response:
    """The PATCH body: only the four changeable attributes, each a boolean."""
    try:
        raw = await request.json()
    except ValueError:
        return error(400, "BAD_REQUEST", "the body must be a JSON object")
    if not isinstance(raw, dict):
        return error(400, "BAD_REQUEST", "the body must be a JSON object")
    unknown = sorted(set(raw) - set(CHANGEABLE))
    if unknown:
        return error(400, "BAD_REQUEST", f"unknown attribute(s): {', '.join(unknown)}")
    wrong = sorted(k for k, v in raw.items() if not isinstance(v, bool))
    if wrong:
        return error(400, "BAD_REQUEST", f"attribute(s) must be true or false: {', '.join(wrong)}")
    return {str(k): bool(v) for k, v in raw.items()}


def disallowed() -> web.Response:
    """ACR's answer to a change of a locked repository, tag or manifest (seen in
    Azure/acr-cli#70: a tag delete under ``writeEnabled: false``)."""
    return error(
        405,
        "REGISTRY_DISALLOWED_OPERATION",
        "The operation is disallowed on this registry, repository or image. View "
        "troubleshooting steps at "
        "https://aka.ms/acr/faq/#why-does-my-pull-or-push-request-fail-with-disallowed-operation",
        {},
    )


def _unsupported(request: web.Request) -> web.Response:
    return error(405, "UNSUPPORTED", f"{request.method} is not supported on {request.path}")


def _bad_page() -> web.Response:
    return error(400, "PAGINATION_NUMBER_INVALID", f"n must be between 1 and {MAX_PAGE}")


def _bad_order(order: str) -> web.Response:
    return error(400, "ORDERBY_INVALID", f"orderby '{order}' is not one of {', '.join(ORDERS)}")


def _size(descriptor: dict[str, Any]) -> int:
    size = descriptor.get("size")
    return size if isinstance(size, int) and size >= 0 else 0
