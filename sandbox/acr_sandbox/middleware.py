"""What happens around every request: fault injection, the request log, and turning
:class:`ArmError` into ARM's error envelope."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web

from acr_sandbox.arm.errors import ArmError
from acr_sandbox.context import ctx
from acr_sandbox.faults import STATUS_CODES, Effects

ADMIN_PREFIX = "/_sandbox"
EFFECTS_KEY: web.RequestKey[Effects] = web.RequestKey("sandbox.effects", Effects)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
log = logging.getLogger(__name__)


def effects(request: web.Request) -> Effects:
    found = request.get(EFFECTS_KEY)
    return found if isinstance(found, Effects) else Effects()


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    sandbox = ctx(request)
    started = time.perf_counter()
    status = 500
    fault: str | None = None
    try:
        found = Effects()
        if not request.path.startswith(ADMIN_PREFIX):
            found = sandbox.faults.effects_for(request.method, request.path)
        if found.any:
            request[EFFECTS_KEY] = found
            fault = _describe(found)
            response = await _inject(request, found)
            if response is not None:
                status = 0 if found.reset else response.status  # 0: no answer was sent
                return response
        try:
            response = await handler(request)
        except ArmError as error:
            response = error.response()
        except web.HTTPException as error:
            if error.status < 400 or request.path.startswith(ADMIN_PREFIX):
                raise  # the admin API answers its own JSON errors
            response = _http_error(request, error).response()
        except Exception:  # a defect: still an envelope, never aiohttp's text/plain 500
            log.exception("%s %s failed", request.method, request.path)
            response = ArmError(
                500, "InternalServerError", "The server encountered an internal error."
            ).response()
        status = response.status
        request_id = str(uuid.uuid4())
        response.headers.setdefault("x-ms-request-id", request_id)
        response.headers.setdefault(
            "x-ms-correlation-request-id",
            request.headers.get("x-ms-correlation-request-id", request_id),
        )
        return response
    except web.HTTPException as error:
        status = error.status
        raise
    finally:
        if not request.path.startswith(ADMIN_PREFIX):
            entry = {
                "time": time.time(),
                "method": request.method,
                "path": request.path,
                "apiVersion": request.query.get("api-version"),
                "status": status,
                "durationMs": round((time.perf_counter() - started) * 1000, 3),
            }
            if fault:
                entry["fault"] = fault
            sandbox.requests.add(entry)


# aiohttp's own refusals (no route, wrong method, body too large) as ARM's envelope
_HTTP_CODES = {
    404: ("NotFound", "The requested path '{path}' was not found."),
    405: ("MethodNotAllowed", "The requested method '{method}' is not allowed for '{path}'."),
    413: ("RequestEntityTooLarge", "The request body is too large."),
}


def _http_error(request: web.Request, error: web.HTTPException) -> ArmError:
    code, template = _HTTP_CODES.get(error.status, ("BadRequest", "The request is not valid."))
    return ArmError(error.status, code, template.format(path=request.path, method=request.method))


async def _inject(request: web.Request, found: Effects) -> web.StreamResponse | None:
    if found.latency_ms:
        await asyncio.sleep(found.latency_ms / 1000)
    if found.reset:
        # abort the TCP connection; aiohttp then drops the response quietly
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=500)
    if found.status:
        code = STATUS_CODES[found.status]
        headers = {"Retry-After": str(found.retry_after)} if found.status in (429, 503) else {}
        return ArmError(
            found.status,
            code,
            f"The request failed with {found.status} (injected by the sandbox).",
            headers=headers,
        ).response()
    return None


def _describe(found: Effects) -> str:
    parts = []
    if found.latency_ms:
        parts.append(f"latency {found.latency_ms}ms")
    if found.reset:
        parts.append("reset")
    if found.status:
        parts.append(f"status {found.status}")
    if found.lro_failed:
        parts.append("lro failed")
    if found.provisioning_polls is not None:
        parts.append(f"provisioning polls {found.provisioning_polls}")
    return ", ".join(parts)
