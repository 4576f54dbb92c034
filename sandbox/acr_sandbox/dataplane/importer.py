"""ARM ``importImage``: copy a tag (manifest, child manifests, blobs) between registries.

The source is another sandbox registry (read straight from its docker-registry with a
token the data plane mints for itself, as ACR's import runs inside the service and
needs no caller rights on the source) or a registry URL on loopback (anonymous pulls,
following its Bearer challenge). Manifest lists and OCI indexes are copied with every
child manifest, so the digest of the imported tag equals the source's.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp

from acr_sandbox.contracts import ImportFailed
from acr_sandbox.dataplane.backends import BackendPair
from acr_sandbox.dataplane.tokens import TokenSigner

__all__ = ["ImportFailed", "copy_image", "external_endpoint", "internal_endpoint"]

MANIFEST_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/vnd.docker.distribution.manifest.v1+json",
)
INDEX_TYPES = frozenset(
    {
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.index.v1+json",
    }
)
ACCEPT = ", ".join(MANIFEST_TYPES)
_BEARER = re.compile(r'(\w+)="([^"]*)"')

AuthFn = Callable[[aiohttp.ClientSession, ssl.SSLContext, str, str | None], Awaitable[str | None]]


@dataclass
class Endpoint:
    """Where to reach a registry's API and how to authorise against it."""

    base: str
    label: str
    authorize: AuthFn
    mints: bool = False  # tokens come from our own signer: fetch before the first request
    tokens: dict[str, str] = field(default_factory=dict)


def internal_endpoint(login_server: str, backends: BackendPair, signer: TokenSigner) -> Endpoint:
    assert backends.registry is not None

    async def mint(
        _s: aiohttp.ClientSession, _c: ssl.SSLContext, repo: str, _challenge: str | None
    ) -> str | None:
        access = [{"type": "repository", "name": repo, "actions": ["pull", "push"]}]
        return signer.access_token(subject="", audience=login_server, access=access)[0]

    return Endpoint(f"https://127.0.0.1:{backends.registry.port}", login_server, mint, mints=True)


def external_endpoint(location: str) -> Endpoint:
    url = location if "://" in location else f"https://{location}"
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback or parts.scheme not in ("http", "https"):
        raise ImportFailed(
            "InvalidParameter",
            f"source registry {location} is not reachable from the sandbox, which works "
            "offline: import from another sandbox registry or a registry on 127.0.0.1",
        )
    return Endpoint(f"{parts.scheme}://{parts.netloc}", location, _anonymous_token)


async def _anonymous_token(
    session: aiohttp.ClientSession, ca: ssl.SSLContext, repo: str, challenge: str | None
) -> str | None:
    if not challenge or not challenge.lower().startswith("bearer "):
        return None
    params = dict(_BEARER.findall(challenge))
    query = {k: params[k] for k in ("service", "scope") if k in params}
    async with session.get(f"{params.get('realm', '')}?{urlencode(query)}", ssl=ca) as resp:
        if resp.status != 200:
            return None
        body = await resp.json(content_type=None)
    token = body.get("access_token") or body.get("token") if isinstance(body, dict) else None
    return str(token) if token else None


class _Client:
    """HTTP against one endpoint; a repository's token is fetched once and reused."""

    def __init__(self, session: aiohttp.ClientSession, ca: ssl.SSLContext, ep: Endpoint) -> None:
        self.session, self.ca, self.ep = session, ca, ep

    async def call(
        self, repo: str, method: str, url: str, *, ok: tuple[int, ...], **kw: Any
    ) -> aiohttp.ClientResponse:
        """The response (caller releases it); replays once after a 401 when the body allows."""
        if not url.startswith("http"):
            url = self.ep.base + url
        if self.ep.mints and repo not in self.ep.tokens:
            self.ep.tokens[repo] = await self.ep.authorize(self.session, self.ca, repo, None) or ""
        for attempt in (0, 1):
            headers = dict(kw.get("headers") or {})
            if self.ep.tokens.get(repo):
                headers["Authorization"] = f"Bearer {self.ep.tokens[repo]}"
            args = {"allow_redirects": False, **kw, "headers": headers}
            resp = await self.session.request(method, url, ssl=self.ca, **args)
            if resp.status == 401 and not attempt and "data" not in kw:
                challenge = resp.headers.get("WWW-Authenticate")
                resp.release()
                token = await self.ep.authorize(self.session, self.ca, repo, challenge)
                if token:
                    self.ep.tokens[repo] = token
                    continue
                raise ImportFailed("Unauthorized", f"{self.ep.label}: access to {repo} refused")
            if resp.status not in ok:
                detail = (await resp.text())[:200]
                resp.release()
                code = "NotFound" if resp.status == 404 else "ImportFailed"
                raise ImportFailed(
                    code, f"{self.ep.label}: {method} {repo}: {resp.status} {detail}"
                )
            return resp
        raise AssertionError("unreachable")


def _split_image(image: str) -> tuple[str, str]:
    """``repo:tag`` or ``repo@digest`` → (repo, reference); a bare repo means ``latest``."""
    if "@" in image:
        repo, _, ref = image.partition("@")
        return repo, ref
    head, sep, tag = image.rpartition(":")
    if sep and "/" not in tag:
        return head, tag
    return image, "latest"


def _children(manifest: dict[str, Any], media_type: str) -> tuple[list[str], list[str]]:
    """(child manifest digests, blob digests) a manifest refers to."""
    if media_type in INDEX_TYPES or "manifests" in manifest:
        return [m["digest"] for m in manifest.get("manifests", [])], []
    blobs = [layer["digest"] for layer in manifest.get("layers", [])]
    blobs += [layer["blobSum"] for layer in manifest.get("fsLayers", [])]
    if isinstance(manifest.get("config"), dict):
        blobs.append(manifest["config"]["digest"])
    return [], list(dict.fromkeys(blobs))


async def copy_image(
    session: aiohttp.ClientSession,
    ca: ssl.SSLContext,
    *,
    source: Endpoint | None,
    dest: Endpoint,
    source_image: str,
    target_tags: list[str],
    force: bool,
) -> None:
    if source is None:
        raise ImportFailed("InvalidParameter", "the import source names no registry")
    src_repo, ref = _split_image(source_image)
    targets = [_split_image(t) for t in (target_tags or [f"{src_repo}:{ref}"])]
    src, dst = _Client(session, ca, source), _Client(session, ca, dest)
    if not force:
        for repo, tag in targets:
            resp = await dst.call(
                repo,
                "HEAD",
                f"/v2/{repo}/manifests/{tag}",
                ok=(200, 404),
                headers={"Accept": ACCEPT},
            )
            resp.release()
            if resp.status == 200:
                raise ImportFailed("TagAlreadyExists", f"target tag {repo}:{tag} already exists")
    body, media_type = await _get_manifest(src, src_repo, ref)
    for repo, tag in targets:
        await _copy_tree(src, dst, src_repo, repo, body, media_type)
        await _put_manifest(dst, repo, tag, body, media_type)


async def _get_manifest(src: _Client, repo: str, ref: str) -> tuple[bytes, str]:
    resp = await src.call(
        repo, "GET", f"/v2/{repo}/manifests/{ref}", ok=(200,), headers={"Accept": ACCEPT}
    )
    try:
        body = await resp.read()
        media_type = resp.headers.get("Content-Type", MANIFEST_TYPES[0]).split(";")[0]
    finally:
        resp.release()
    return body, media_type


async def _copy_tree(
    src: _Client, dst: _Client, src_repo: str, repo: str, body: bytes, media_type: str
) -> None:
    children, blobs = _children(json.loads(body), media_type)
    for digest in blobs:
        await _copy_blob(src, dst, src_repo, repo, digest)
    for digest in children:
        child, child_type = await _get_manifest(src, src_repo, digest)
        await _copy_tree(src, dst, src_repo, repo, child, child_type)
        await _put_manifest(dst, repo, digest, child, child_type)


# One lock per (destination registry, blob): concurrent imports sharing a layer upload
# it once, and the others find it present, instead of racing two uploads of one digest.
_BLOB_LOCKS: dict[tuple[str, str], asyncio.Lock] = {}


async def _copy_blob(src: _Client, dst: _Client, src_repo: str, repo: str, digest: str) -> None:
    async with _BLOB_LOCKS.setdefault((dst.ep.label, digest), asyncio.Lock()):
        await _copy_blob_once(src, dst, src_repo, repo, digest)


async def _copy_blob_once(
    src: _Client, dst: _Client, src_repo: str, repo: str, digest: str
) -> None:
    head = await dst.call(repo, "HEAD", f"/v2/{repo}/blobs/{digest}", ok=(200, 404))
    head.release()
    if head.status == 200:
        return
    start = await dst.call(repo, "POST", f"/v2/{repo}/blobs/uploads/", ok=(202,))
    location = start.headers["Location"]
    start.release()
    blob = await src.call(
        src_repo, "GET", f"/v2/{src_repo}/blobs/{digest}", ok=(200, 307), allow_redirects=True
    )
    try:
        sep = "&" if "?" in location else "?"
        headers = {"Content-Type": "application/octet-stream"}
        if blob.content_length is not None:
            headers["Content-Length"] = str(blob.content_length)
        put = await dst.call(
            repo,
            "PUT",
            f"{location}{sep}digest={digest}",
            ok=(201,),
            headers=headers,
            data=blob.content.iter_chunked(64 * 1024),
        )
        put.release()
    finally:
        blob.release()


async def _put_manifest(dst: _Client, repo: str, ref: str, body: bytes, media_type: str) -> None:
    resp = await dst.call(
        repo,
        "PUT",
        f"/v2/{repo}/manifests/{ref}",
        ok=(201,),
        headers={"Content-Type": media_type},
        data=body,
    )
    resp.release()
