"""One registry's loginServer: the token service plus a streaming reverse proxy.

As on ACR, the registry API and the trust API share one host: ``/v2/<gun>/_trust/…``
(and notary's own ``/_notary_server/…``) go to notary-server, the rest of ``/v2/`` to
docker-registry. The ``Host`` header is passed through, so the registry builds its
``Location`` URLs and both servers their challenges for the loginServer itself; any
``Location`` still naming a backend is rewritten.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from acr_sandbox.contracts import FaultHook, RequestRecorder
from acr_sandbox.dataplane.access import AccessCheck, error
from acr_sandbox.dataplane.backends import BackendPair
from acr_sandbox.dataplane.metadata import MetadataApi, disallowed
from acr_sandbox.dataplane.referrers import ReferrersIndex, subject_of
from acr_sandbox.dataplane.referrers import listing as referrers_listing
from acr_sandbox.dataplane.service import TokenService
from acr_sandbox.dataplane.storage import MAX_MANIFEST_BYTES
from acr_sandbox.errors import SandboxError

_TRUST_PATH = re.compile(r"^/v2/(?:.+/)?_trust(?:/|$)")
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
CHUNK = 64 * 1024


def is_trust_path(path: str) -> bool:
    return bool(_TRUST_PATH.match(path)) or path.startswith("/_notary_server/")


_REFERRERS = re.compile(r"^/v2/(?P<repo>.+)/referrers/(?P<digest>[^/]+)$")
_MANIFEST = re.compile(r"^/v2/(?P<repo>.+)/manifests/(?P<ref>[^/]+)$")
_ERROR_CODES = {401: "UNAUTHORIZED", 403: "DENIED", 404: "NOT_FOUND", 405: "UNSUPPORTED"}


@dataclass(frozen=True)
class ContentViews:
    """What the loginServer answers itself, beside the backends: ACR's metadata API and
    the referrers API, both read from the registry's storage."""

    metadata: MetadataApi
    referrers: ReferrersIndex
    access: AccessCheck
    referrers_enabled: Callable[[], bool]  # False on registries with a customer-managed key


class LoginServerProxy:
    """Forwards data-plane requests to the registry's backends, starting them on demand."""

    def __init__(
        self,
        login_server: str,
        backends: BackendPair,
        client: Callable[[], aiohttp.ClientSession],
        ca: ssl.SSLContext,
        views: ContentViews,
    ) -> None:
        self.login_server = login_server
        self._backends = backends
        self._client = client
        self._ca = ca
        self._views = views

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path == "/acr/v1" or path.startswith("/acr/v1/"):
            return await self._views.metadata.handle(request)
        referrers = _REFERRERS.match(path) if request.method in ("GET", "HEAD") else None
        if referrers is not None:
            return self._referrers(request, referrers["repo"], referrers["digest"])
        manifest = _MANIFEST.match(path)
        body: bytes | None = None
        if manifest is not None:
            locked = self._locked(request, manifest["repo"], manifest["ref"])
            if locked is not None:
                return locked
        if manifest is not None and request.method == "PUT":
            body = await request.content.read(MAX_MANIFEST_BYTES + 1)
            if len(body) > MAX_MANIFEST_BYTES:
                return error(413, "MANIFEST_INVALID", "the manifest exceeds 4 MiB")
        try:
            await self._backends.ensure_started(self._ca)
        except SandboxError as exc:
            return error(503, "UNAVAILABLE", str(exc))
        response = await self._forward(request, body)
        if manifest is not None and response.status in (201, 202):
            # a re-pushed digest reuses its old directory, so the mtime alone misses it
            self._views.referrers.changed(manifest["repo"])
        return response

    def _locked(self, request: web.Request, repo: str, ref: str) -> web.Response | None:
        """ACR's image locks on manifest PUT/DELETE; a caller without the rights gets the
        challenge first, as from docker-registry, so a lock is never shown to strangers."""
        metadata = self._views.metadata
        if request.method == "PUT" and metadata.push_locked(repo, ref):
            action = "push"
        elif request.method == "DELETE" and metadata.delete_locked(repo, ref):
            action = "delete"
        else:
            return None
        denied = self._views.access.require(request, "repository", repo, [action])
        return denied if denied is not None else disallowed()

    def _referrers(self, request: web.Request, repo: str, digest: str) -> web.StreamResponse:
        denied = self._views.access.require(request, "repository", repo, ["pull"])
        if denied is not None:
            return denied
        if not self._views.referrers_enabled():
            return error(
                404,
                "UNSUPPORTED",
                "the referrers API is not available on a registry encrypted with a "
                "customer-managed key: use the referrers tag schema",
            )
        return referrers_listing(request, self._views.referrers, repo, digest)

    async def _forward(self, request: web.Request, body: bytes | None) -> web.StreamResponse:
        backend = self._backends.notary if is_trust_path(request.path) else self._backends.registry
        assert backend is not None
        origin = f"https://127.0.0.1:{backend.port}"
        # A multidict: clients send one ``Accept`` line per media type, and a dict would
        # keep only the last, so docker-registry would answer a schema1 down-conversion.
        headers = CIMultiDict(
            (k, v) for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP
        )
        headers["Host"] = self.login_server
        headers["X-Forwarded-Proto"] = "https"
        data: Any = body
        if body is None:
            data = request.content if request.body_exists else None
            if data is not None and request.content_length is not None:
                headers["Content-Length"] = str(request.content_length)
        try:
            async with self._client().request(
                request.method,
                origin + request.rel_url.raw_path_qs,
                headers=headers,
                data=data,
                ssl=self._ca,
                allow_redirects=False,
                auto_decompress=False,
            ) as upstream:
                subject = None
                if body is not None and upstream.status == 201 and self._views.referrers_enabled():
                    subject = subject_of(body)
                return await self._relay(request, upstream, origin, subject)
        except aiohttp.ClientError as exc:
            return error(502, "UNAVAILABLE", f"backend: {exc}")

    async def _relay(
        self,
        request: web.Request,
        upstream: aiohttp.ClientResponse,
        origin: str,
        subject: str | None,
    ) -> web.StreamResponse:
        content_type = upstream.headers.get("Content-Type", "")
        if upstream.status >= 400 and "json" not in content_type:
            # docker-registry answers unknown routes with text/plain; ACR always with JSON
            text = (await upstream.content.read(512)).decode(errors="replace").strip()
            code = _ERROR_CODES.get(upstream.status, "UNKNOWN")
            extra = {}
            if "WWW-Authenticate" in upstream.headers:
                extra["WWW-Authenticate"] = upstream.headers["WWW-Authenticate"]
            return error(upstream.status, code, text or upstream.reason or code, **extra)
        response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
        ours = f"https://{self.login_server}"
        for key, value in upstream.headers.items():
            if key.lower() in _HOP_BY_HOP:
                continue
            if key.lower() == "location":
                # ACR's upload and manifest locations are relative (path and query)
                for prefix in (origin, ours):
                    if value.startswith(prefix + "/"):
                        value = value[len(prefix) :]
            response.headers.add(key, value)
        if subject is not None:
            response.headers["OCI-Subject"] = subject
        if upstream.content_length is not None:
            response.content_length = upstream.content_length
        await response.prepare(request)
        if request.method != "HEAD":
            async for chunk in upstream.content.iter_chunked(CHUNK):
                await response.write(chunk)
        await response.write_eof()
        return response


_FAULT_CODES = {429: "TOOMANYREQUESTS", 500: "INTERNAL_ERROR", 503: "UNAVAILABLE"}
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def fault_middleware(hook: FaultHook) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Applies the control plane's ``data`` fault rules before a request reaches a backend,
    so a failed or reset request never half-happened (as a throttling front end would)."""

    @web.middleware
    async def inject(request: web.Request, handler: _Handler) -> web.StreamResponse:
        fault = hook(request.method, request.path)
        if fault is None:
            return await handler(request)
        if fault.latency_ms:
            await asyncio.sleep(fault.latency_ms / 1000)
        if fault.reset:
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=500)
        if fault.status:
            code = _FAULT_CODES.get(fault.status, "UNKNOWN")
            body = {"errors": [{"code": code, "message": "injected by the sandbox"}]}
            headers = {"Retry-After": str(fault.retry_after)}
            return web.json_response(body, status=fault.status, headers=headers)
        return await handler(request)

    return inject


def record_middleware(
    login_server: str, record: RequestRecorder
) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Puts every loginServer request in the control plane's request log, marked
    ``plane: data``, so tests see trust uploads and token requests beside ARM's writes.
    Only method, path and outcome: never a header, query or body (tokens live there)."""

    @web.middleware
    async def observe(request: web.Request, handler: _Handler) -> web.StreamResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as error:
            status = error.status
            raise
        finally:
            record(
                {
                    "time": time.time(),
                    "method": request.method,
                    "path": request.path,
                    "apiVersion": None,
                    "status": status,
                    "durationMs": round((time.perf_counter() - started) * 1000, 3),
                    "plane": "data",
                    "loginServer": login_server,
                }
            )

    return observe


def envelope_middleware() -> Callable[..., Awaitable[web.StreamResponse]]:
    """Whatever goes wrong inside the loginServer itself (a body over aiohttp's limit, a
    method the token routes do not take, a bug) still answers the registry's JSON error
    envelope, never aiohttp's text/plain page or a traceback; bugs go to the daemon log."""

    @web.middleware
    async def wrap(request: web.Request, handler: _Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException as failure:
            if failure.status < 400 or failure.content_type == "application/json":
                raise
            code = _ERROR_CODES.get(failure.status, "UNSUPPORTED")
            if failure.status == 413:
                code = "SIZE_INVALID"
            return error(failure.status, code, failure.reason)
        except (ConnectionError, asyncio.CancelledError):
            raise
        except Exception:
            logging.getLogger(__name__).exception("loginServer %s %s", request.method, request.path)
            return error(500, "INTERNAL_ERROR", "the sandbox could not answer this request")

    return wrap


def build_app(
    tokens: TokenService,
    proxy: LoginServerProxy,
    faults: FaultHook | None = None,
    record: RequestRecorder | None = None,
) -> web.Application:
    """Token routes first; every other path is proxied (unknown ones 404 at the backend).
    The log sees a request before the faults do, so injected failures are logged too."""
    middlewares = [record_middleware(proxy.login_server, record)] if record else []
    middlewares += [fault_middleware(faults)] if faults else []
    middlewares.append(envelope_middleware())
    app = web.Application(middlewares=middlewares)
    app.add_routes(tokens.routes())
    app.router.add_route("*", "/{tail:.*}", proxy.handle)
    return app
