"""One registry's loginServer: the token service plus a streaming reverse proxy.

As on ACR, the registry API and the trust API share one host: ``/v2/<gun>/_trust/…``
(and notary's own ``/_notary_server/…``) go to notary-server, the rest of ``/v2/`` to
docker-registry. The ``Host`` header is passed through, so the registry builds its
``Location`` URLs and both servers their challenges for the loginServer itself; any
``Location`` still naming a backend is rewritten.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web

from acr_sandbox.contracts import FaultHook, RequestRecorder
from acr_sandbox.dataplane.backends import BackendPair
from acr_sandbox.dataplane.service import TokenService
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


class LoginServerProxy:
    """Forwards data-plane requests to the registry's backends, starting them on demand."""

    def __init__(
        self,
        login_server: str,
        backends: BackendPair,
        client: Callable[[], aiohttp.ClientSession],
        ca: ssl.SSLContext,
    ) -> None:
        self.login_server = login_server
        self._backends = backends
        self._client = client
        self._ca = ca

    async def handle(self, request: web.Request) -> web.StreamResponse:
        try:
            await self._backends.ensure_started(self._ca)
        except SandboxError as exc:
            body = {"errors": [{"code": "UNAVAILABLE", "message": str(exc)}]}
            return web.json_response(body, status=503)
        backend = self._backends.notary if is_trust_path(request.path) else self._backends.registry
        assert backend is not None
        origin = f"https://127.0.0.1:{backend.port}"
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers["Host"] = self.login_server
        headers["X-Forwarded-Proto"] = "https"
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
                return await self._relay(request, upstream, origin)
        except aiohttp.ClientError as exc:
            body = {"errors": [{"code": "UNAVAILABLE", "message": f"backend: {exc}"}]}
            return web.json_response(body, status=502)

    async def _relay(
        self, request: web.Request, upstream: aiohttp.ClientResponse, origin: str
    ) -> web.StreamResponse:
        response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
        for key, value in upstream.headers.items():
            if key.lower() in _HOP_BY_HOP:
                continue
            if key.lower() == "location" and value.startswith(origin):
                value = f"https://{self.login_server}{value[len(origin) :]}"
            response.headers.add(key, value)
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
    app = web.Application(middlewares=middlewares)
    app.add_routes(tokens.routes())
    app.router.add_route("*", "/{tail:.*}", proxy.handle)
    return app
