"""The one aiohttp handler in front of every ARM path: bearer token check, throttling
with ARM's remaining-quota headers, then the case-insensitive ARM router."""

from __future__ import annotations

import re

from aiohttp import web

from acr_sandbox.arm import (
    importimage,
    registries,
    resourcegroups,
    resources,
    roleassignments,
    roledefinitions,
    subscriptions,
)
from acr_sandbox.arm.errors import ArmError
from acr_sandbox.arm.lro import get_result
from acr_sandbox.arm.rbac import authorize
from acr_sandbox.arm.router import SUB, ArmRouter
from acr_sandbox.context import ctx
from acr_sandbox.directory import require_bearer
from acr_sandbox.keyvault import vaults
from acr_sandbox.throttle import kind_of

_SUBSCRIPTION = re.compile(r"^/subscriptions/([^/]+)", re.IGNORECASE)


def build_router() -> ArmRouter:
    router = ArmRouter()
    subscriptions.register(router)
    resourcegroups.register(router)
    router.add("GET", SUB + r"/operationResults/(?P<op>[^/]+)", get_result)
    registries.register(router)
    importimage.register(router)
    resources.register(router)
    roleassignments.register(router)
    roledefinitions.register(router)
    vaults.register(router)
    return router


ROUTER = build_router()


async def arm_entry(request: web.Request) -> web.StreamResponse:
    sandbox = ctx(request)
    claims = require_bearer(request, sandbox, sandbox.arm_audiences())
    if not request.query.get("api-version"):
        raise ArmError(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    match = _SUBSCRIPTION.match(request.path)
    headers: dict[str, str] = {}
    if match:
        kind = kind_of(request.method, request.path)
        decision = sandbox.throttle.take(match[1], kind)
        if decision is not None:
            headers[f"x-ms-ratelimit-remaining-subscription-{kind}"] = str(decision.remaining)
            if not decision.allowed:
                raise ArmError(
                    429,
                    "TooManyRequests",
                    f"Number of '{kind}' requests for subscription '{match[1]}' exceeded. "
                    f"Please try again after '{decision.retry_after}' seconds after additional "
                    "tokens are available. Refer to https://aka.ms/arm-throttling",
                    headers=headers | {"Retry-After": str(decision.retry_after)},
                )
    try:
        if request.path.rstrip("/").lower() != "/subscriptions":
            authorize(sandbox, claims, request.method, request.path)
        response = await ROUTER.dispatch(request)
    except ArmError as error:
        error.headers = headers | error.headers
        raise
    response.headers.update(headers)
    return response
