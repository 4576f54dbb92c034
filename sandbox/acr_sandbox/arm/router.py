"""A case-insensitive router for ARM paths.

ARM treats path segments case-insensitively (the SDKs send ``resourcegroups`` for
resource groups and ``resourceGroups`` under registries), and role assignments live under
any scope, so one catch-all aiohttp route dispatches through these compiled patterns.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from acr_sandbox.arm.errors import ArmError

Handler = Callable[[web.Request, dict[str, str]], Awaitable[web.StreamResponse]]

SUB = r"/subscriptions/(?P<sub>[^/]+)"
RG = SUB + r"/resourcegroups/(?P<rg>[^/]+)"
REGISTRY = RG + r"/providers/Microsoft\.ContainerRegistry/registries/(?P<name>[^/]+)"
SCOPE = r"(?P<scope>(/[^/]+)*?)"


@dataclass(frozen=True)
class Route:
    methods: frozenset[str]
    pattern: re.Pattern[str]
    handler: Handler


class ArmRouter:
    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(self, methods: str, pattern: str, handler: Handler) -> None:
        compiled = re.compile(f"^{pattern}/?$", re.IGNORECASE)
        self._routes.append(Route(frozenset(methods.split()), compiled, handler))

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        matched_path = False
        for route in self._routes:
            match = route.pattern.match(path)
            if not match:
                continue
            matched_path = True
            if request.method in route.methods:
                params = {k: v for k, v in match.groupdict().items() if v is not None}
                return await route.handler(request, params)
        if matched_path:
            raise ArmError(
                405,
                "MethodNotAllowed",
                f"The requested method '{request.method}' is not allowed for '{path}'.",
            )
        raise ArmError(
            404,
            "InvalidResourceType",
            f"The resource type could not be found for the path '{path}'.",
        )
