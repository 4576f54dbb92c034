"""The registry API (OCI distribution) of one login server, through the Bearer challenge flow.

Every request may answer 401 with ``WWW-Authenticate: Bearer realm,service,scope``; the
client then asks its token source for exactly those scopes and replays the request. The
token of the last success per (repository, action set) is sent up front next time, so
steady-state reads cost one round trip. Reads that meet throttling or server trouble are
asked again by the session's retry policy (``acr_reconcile.registry.sessions``); pushes are not.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import requests

from acr_reconcile.bounded import BodyTooLarge, BodyTooSlow, read_body
from acr_reconcile.errors import RegistryError
from acr_reconcile.redact import echo
from acr_reconcile.registry.sessions import data_plane_session
from acr_reconcile.registry.tokens import BindableTokenSource, RegistryTokenSource

MANIFEST_MEDIA_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
)
# Without an Accept header the registry down-converts to schema1 and answers 400.
_ACCEPT = ", ".join(MANIFEST_MEDIA_TYPES)
_PARAM = re.compile(r'(\w+)="([^"]*)"')
TIMEOUT = 60
# Bounds of a whole body read: a manifest (ACR's own limit is 4 MiB), a blob fetched
# whole (signature envelopes: notation-go's 32 MiB), and the time either may take.
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
MAX_BLOB_BYTES = 32 * 1024 * 1024
BODY_DEADLINE = 120.0


@dataclass(frozen=True)
class PushedManifest:
    """What a manifest PUT answered: the digest, and ``OCI-Subject`` when the registry
    processed the manifest's ``subject`` (it has the referrers API)."""

    digest: str
    oci_subject: str | None


@dataclass(frozen=True)
class ManifestRef:
    digest: str
    size: int
    media_type: str


def parse_challenge(header: str) -> dict[str, str] | None:
    scheme, _, rest = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return dict(_PARAM.findall(rest))


class RegistryClient:
    def __init__(
        self,
        login_server: str,
        token_source: RegistryTokenSource | BindableTokenSource,
        verify: str | bool = True,
    ) -> None:
        self.login_server = login_server.removeprefix("https://").rstrip("/")
        self._base = f"https://{self.login_server}"
        # A source shared by many registries is bound here, to the one host its
        # credentials may be sent to.
        self._tokens: RegistryTokenSource = (
            token_source.for_registry(self.login_server)
            if isinstance(token_source, BindableTokenSource)
            else token_source
        )
        self._verify = verify
        self._session = data_plane_session()
        # a token per repository and kind of access: a DELETE's challenge asks for the
        # delete scope alone, which must not replace the token pushes use
        self._known: dict[tuple[str, str], str] = {}
        # repositories where this identity may not delete (a 401/403/405 seen): asked once
        self.deletes_refused: set[str] = set()
        # (repository, digest) of blobs this client saw present or pushed
        self._present: set[tuple[str, str]] = set()

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self, method: str, path: str, *, repository: str, write: bool = False, **kw: Any
    ) -> requests.Response:
        """``path`` relative to the server or absolute (upload locations); bodies must be bytes."""
        url = urljoin(self._base, path)
        key = (repository, "delete" if method == "DELETE" else "push" if write else "pull")
        for attempt in (0, 1):
            headers = dict(kw.get("headers") or {})
            if key in self._known:
                headers["Authorization"] = f"Bearer {self._known[key]}"
            args = {**kw, "headers": headers}
            try:
                response = self._session.request(
                    method, url, verify=self._verify, timeout=TIMEOUT, **args
                )
            except requests.RequestException as exc:
                reason = type(exc).__name__
                raise RegistryError(
                    f"{url}: cannot reach the registry ({reason})", transient=True
                ) from None
            challenge = parse_challenge(response.headers.get("WWW-Authenticate", ""))
            if response.status_code != 401 or attempt or challenge is None:
                return response
            response.close()
            del response  # a refused token fetch raises here: its traceback keeps this frame
            scopes = [challenge["scope"]] if challenge.get("scope") else []
            self._known[key] = self._tokens.access_token(
                realm=challenge.get("realm", ""),
                service=challenge.get("service", ""),
                scopes=scopes,
            )
        raise AssertionError("unreachable")

    def _check(self, response: requests.Response, what: str, ok: tuple[int, ...]) -> None:
        if response.status_code in ok:
            return
        try:
            # bounded: a streamed error answer is read here, at most 64 KiB of it
            body = read_body(response, limit=65536, deadline=time.monotonic() + 10, truncate=True)
            errors = json.loads(body).get("errors") or []
            detail = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors)
        except (ValueError, AttributeError, BodyTooSlow, requests.RequestException):
            detail = response.reason or ""
        finally:
            response.close()
        detail = echo(detail)  # the server's words: may echo what we sent
        status = response.status_code
        raise RegistryError(f"{self.login_server}: {what}: HTTP {status} {detail}", status=status)

    def manifest(self, repository: str, reference: str) -> ManifestRef | None:
        """Digest, size and media type of a tag or digest; None when absent."""
        path = f"/v2/{repository}/manifests/{reference}"
        headers = {"Accept": _ACCEPT}
        response = self.request("HEAD", path, repository=repository, headers=headers)
        if response.status_code == 404:
            return None
        self._check(response, f"manifest {repository}:{reference}", (200,))
        digest = response.headers.get("Docker-Content-Digest")
        size = response.headers.get("Content-Length")
        media_type = response.headers.get("Content-Type", "").split(";")[0]
        if not digest or size is None:
            response = self.request("GET", path, repository=repository, headers=headers)
            self._check(response, f"manifest {repository}:{reference}", (200,))
            digest = "sha256:" + hashlib.sha256(response.content).hexdigest()
            size = str(len(response.content))
        return ManifestRef(digest, int(size), media_type)

    def _bounded(self, response: requests.Response, what: str, limit: int) -> bytes:
        """The streamed body, at most ``limit`` bytes and within ``BODY_DEADLINE``."""
        try:
            return read_body(response, limit=limit, deadline=time.monotonic() + BODY_DEADLINE)
        except BodyTooLarge:
            raise RegistryError(
                f"{self.login_server}: {what}: the answer is longer than {limit} bytes"
            ) from None
        except BodyTooSlow as error:
            raise RegistryError(
                f"{self.login_server}: {what}: the answer is {error}", transient=True
            ) from None
        except requests.RequestException as error:
            raise RegistryError(
                f"{self.login_server}: {what}: the answer broke off ({type(error).__name__})",
                transient=True,
            ) from None
        finally:
            response.close()

    def manifest_body(
        self, repository: str, reference: str, *, limit: int = MAX_MANIFEST_BYTES
    ) -> tuple[bytes, str]:
        """A manifest's bytes as served (never re-encoded) and its media type; read
        streamed and refused past ``limit`` bytes."""
        path = f"/v2/{repository}/manifests/{reference}"
        what = f"manifest {repository}:{reference}"
        response = self.request(
            "GET", path, repository=repository, headers={"Accept": _ACCEPT}, stream=True
        )
        if response.status_code != 200:
            self._check(response, what, (200,))
        media_type = response.headers.get("Content-Type", "").split(";")[0]
        return self._bounded(response, what, limit), media_type

    def tags(self, repository: str) -> list[str]:
        """All tags, following ``Link`` pagination; an unknown repository has none."""
        found: list[str] = []
        path: str | None = f"/v2/{repository}/tags/list"
        while path:
            response = self.request("GET", path, repository=repository)
            if response.status_code == 404:
                return found
            self._check(response, f"tags of {repository}", (200,))
            found += response.json().get("tags") or []
            path = response.links.get("next", {}).get("url")
        return found

    def catalog(self) -> list[str]:
        """Every repository of the registry (``GET /v2/_catalog``, scope
        ``registry:catalog:*``), following ``Link`` pagination."""
        found: list[str] = []
        path: str | None = "/v2/_catalog"
        while path:
            response = self.request("GET", path, repository="")
            self._check(response, "the repository catalog", (200,))
            found += response.json().get("repositories") or []
            path = response.links.get("next", {}).get("url")
        return found

    def blob(self, repository: str, digest: str, *, limit: int = MAX_BLOB_BYTES) -> bytes:
        """A blob's bytes, read streamed and refused past ``limit`` bytes."""
        what = f"blob {repository}@{digest}"
        response = self.request(
            "GET", f"/v2/{repository}/blobs/{digest}", repository=repository, stream=True
        )
        if response.status_code != 200:
            self._check(response, what, (200,))
        return self._bounded(response, what, limit)

    def push_blob(self, repository: str, data: bytes) -> str:
        """Upload ``data`` (monolithic) unless the registry already has it; its digest."""
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        head = self.request(
            "HEAD", f"/v2/{repository}/blobs/{digest}", repository=repository, write=True
        )
        if head.status_code == 200:
            return digest
        start = self.request(
            "POST", f"/v2/{repository}/blobs/uploads/", repository=repository, write=True
        )
        self._check(start, f"blob upload to {repository}", (202,))
        if not start.headers.get("Location"):
            raise RegistryError(f"{self.login_server}: blob upload to {repository}: no Location")
        # ACR answers a relative Location: resolve it against the request (RFC 3986)
        location = urljoin(start.url, start.headers["Location"])
        sep = "&" if "?" in location else "?"
        put = self.request(
            "PUT",
            f"{location}{sep}digest={digest}",
            repository=repository,
            write=True,
            data=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        self._check(put, f"blob {digest} to {repository}", (201,))
        return digest

    def push_shared_blob(self, repository: str, data: bytes) -> str:
        """:meth:`push_blob` for a blob many pushes of this run share (the empty config
        of every signature): checked or pushed once per repository, then taken as
        present. A blob is content-addressed and this run deletes none, so asking again
        for each of 1,000 signatures would only cost a request each."""
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if (repository, digest) in self._present:
            return digest
        self.push_blob(repository, data)
        self._present.add((repository, digest))
        return digest

    def push_manifest(self, repository: str, reference: str, body: bytes, media_type: str) -> str:
        return self.put_manifest(repository, reference, body, media_type).digest

    def put_manifest(
        self,
        repository: str,
        reference: str,
        body: bytes,
        media_type: str,
    ) -> PushedManifest:
        """PUT ``body`` exactly as given (its digest is over these bytes)."""
        headers = {"Content-Type": media_type}
        response = self.request(
            "PUT",
            f"/v2/{repository}/manifests/{reference}",
            repository=repository,
            write=True,
            data=body,
            headers=headers,
        )
        self._check(response, f"manifest {repository}:{reference}", (201,))
        digest = response.headers.get("Docker-Content-Digest") or (
            "sha256:" + hashlib.sha256(body).hexdigest()
        )
        return PushedManifest(digest, response.headers.get("OCI-Subject"))

    def delete_manifest(self, repository: str, digest: str) -> bool:
        """DELETE a manifest by digest; False when it was already gone (404)."""
        response = self.request(
            "DELETE", f"/v2/{repository}/manifests/{digest}", repository=repository, write=True
        )
        if response.status_code == 404:
            return False
        self._check(response, f"deleting manifest {repository}@{digest}", (202,))
        return True
