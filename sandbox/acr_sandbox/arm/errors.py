"""ARM's error envelope (common-types ErrorResponse) as an exception handlers can raise."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


class ArmError(Exception):
    """An ARM refusal: the middleware turns it into ``{"error": {"code", "message"}}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        target: str | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.target = target

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target:
            error["target"] = self.target
        return {"error": error}

    def response(self) -> web.Response:
        return json_response(self.body(), status=self.status, headers=self.headers)


def json_response(
    body: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=json.dumps(body, separators=(",", ":")).encode(),
        status=status,
        headers=headers,
        content_type="application/json",
        charset="utf-8",
    )


def not_found(kind: str, name: str, resource_group: str) -> ArmError:
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{kind}/{name}' under resource group '{resource_group}' was not "
        "found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    )


def resource_group_not_found(name: str) -> ArmError:
    return ArmError(404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found.")


def subscription_not_found(subscription_id: str) -> ArmError:
    return ArmError(
        404, "SubscriptionNotFound", f"The subscription '{subscription_id}' could not be found."
    )


def invalid_body(detail: str) -> ArmError:
    return ArmError(400, "InvalidRequestContent", f"The request content was invalid: {detail}")


async def read_json(request: web.Request) -> dict[str, Any]:
    """The JSON object of a request body; anything else is ARM's 400."""
    raw = await request.read()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise invalid_body("the body is not JSON") from None
    if not isinstance(body, dict):
        raise invalid_body("the body must be a JSON object")
    return body
