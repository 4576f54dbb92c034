"""``POST …/registries/{name}/importImage``: a long-running copy done by the data plane.

Answers 202 with ``Location``; the operation result is 200 once the copy is done, or the
data plane's refusal (``ImportFailed``) as ARM's 400 error envelope.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from acr_sandbox.arm import lro
from acr_sandbox.arm.errors import ArmError, invalid_body, json_response, read_json
from acr_sandbox.arm.registries import require
from acr_sandbox.arm.router import REGISTRY, SUB, ArmRouter
from acr_sandbox.context import Sandbox, ctx
from acr_sandbox.contracts import ImportFailed, RegistryRecord
from acr_sandbox.directory import registry_record

log = logging.getLogger(__name__)


def _source(sandbox: Sandbox, raw: Any) -> tuple[str | None, str]:
    if not isinstance(raw, dict) or not isinstance(raw.get("sourceImage"), str):
        raise invalid_body("'source.sourceImage' is required")
    image = str(raw["sourceImage"])
    if isinstance(raw.get("resourceId"), str):
        entry = sandbox.store.section("registries").get(raw["resourceId"].lower())
        if entry is None:
            raise ArmError(
                400,
                "InvalidParameter",
                f"The source registry '{raw['resourceId']}' could not be found.",
                target="source.resourceId",
            )
        return str(entry["body"]["properties"]["loginServer"]), image
    uri = raw.get("registryUri")
    return (str(uri) if isinstance(uri, str) and uri else None), image


async def import_image(request: web.Request, params: dict[str, str]) -> web.Response:
    sandbox = ctx(request)
    entry = require(sandbox, params)
    body = await read_json(request)
    source_login_server, source_image = _source(sandbox, body.get("source"))
    tags = body.get("targetTags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise invalid_body("'targetTags' must be a list of strings")
    mode = body.get("mode", "NoForce")
    if mode not in ("NoForce", "Force"):
        raise invalid_body("'mode' must be NoForce or Force")
    operation = lro.start(sandbox, request, kind="registries")
    operation["targetTags"] = list(tags)
    target = registry_record(entry["body"])
    asyncio.get_running_loop().create_task(
        _copy(sandbox, operation, target, source_login_server, source_image, tags, mode == "Force")
    )
    headers = {
        "Location": _result_url(sandbox, request, entry["body"], operation),
        "Retry-After": str(int(sandbox.settings["lroRetryAfter"])),
    }
    return json_response(None, status=202, headers=headers)


def _result_url(
    sandbox: Sandbox, request: web.Request, registry: dict[str, Any], operation: lro.Operation
) -> str:
    """Azure's operation-result URL for an import: under the provider's location, not
    under the registry (``…/providers/Microsoft.ContainerRegistry/locations/WESTUS/
    operationResults/registries-{id}``)."""
    sub = str(registry["id"]).split("/")[2]
    location = str(registry["location"]).upper()
    return (
        f"{sandbox.base_url}/subscriptions/{sub}/providers/Microsoft.ContainerRegistry/"
        f"locations/{location}/operationResults/registries-{operation['id']}"
        f"?api-version={request.query.get('api-version', '')}"
    )


async def get_result(request: web.Request, params: dict[str, str]) -> web.Response:
    """An import's progress as Azure reports it: 202 ``{"<tag>": "Pending", "status":
    "Accepted"}`` (with ``Location``) while copying, then 200 ``{"status": "Succeeded"}``;
    a failed import answers its error envelope."""
    sandbox = ctx(request)
    operation = lro.lookup(sandbox, params["op"])
    status = lro.poll(operation)
    if status == "InProgress":
        body: dict[str, str] = {tag: "Pending" for tag in operation.get("targetTags", [])}
        body["status"] = "Accepted"
        headers = {"Location": str(request.url), "Retry-After": lro.retry_after(sandbox)}
        return json_response(body, status=202, headers=headers)
    if status == "Failed":
        error = operation["error"] or {}
        raise ArmError(
            int(error.get("status", 400)),
            str(error.get("code", "OperationFailed")),
            str(error.get("message", "The operation failed.")),
        )
    return json_response({"status": "Succeeded"})


async def _copy(
    sandbox: Sandbox,
    operation: lro.Operation,
    target: RegistryRecord,
    source_login_server: str | None,
    source_image: str,
    tags: list[str],
    force: bool,
) -> None:
    try:
        await sandbox.dataplane.import_image(
            target,
            source_login_server=source_login_server,
            source_image=source_image,
            target_tags=list(tags),
            force=force,
        )
    except ImportFailed as failure:
        lro.finish(sandbox, operation, {"code": failure.code, "message": failure.message})
        return
    except Exception as error:
        log.exception("importImage into %s failed", target.name)
        lro.finish(
            sandbox,
            operation,
            {
                "status": "500",
                "code": "InternalServerError",
                "message": f"The import failed: {type(error).__name__}: {error}"[:500],
            },
        )
        return
    lro.finish(sandbox, operation)


def register(router: ArmRouter) -> None:
    provider = r"/providers/Microsoft\.ContainerRegistry"
    router.add(
        "GET",
        SUB + provider + r"/locations/(?P<location>[^/]+)/operationResults/(?P<op>[^/]+)",
        get_result,
    )
    router.add("POST", REGISTRY + r"/importImage", import_image)
