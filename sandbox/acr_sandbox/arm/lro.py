"""Long-running operations as ARM runs them: an operation id, a status monitor
(``Azure-AsyncOperation``: ``{"status": "InProgress"|"Succeeded"|"Failed"}``) or an
operation-result URL (``Location``: 202 while running, 200 when done, the error status
when it failed), and the resource's ``provisioningState`` following the operation.

An operation is terminal when its work is done and its configured number of
``InProgress`` answers (setting ``lroPolls`` or a ``provisioningPolls`` fault) has been
given, or, if nobody polls, after as many Retry-After periods: Azure does not wait for
clients to poll. Operations live in memory; after a restart their ids are unknown.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

from aiohttp import web

from acr_sandbox.arm.errors import ArmError, json_response
from acr_sandbox.context import Sandbox, ctx
from acr_sandbox.middleware import effects

Operation = dict[str, Any]
OnTerminal = Callable[[str, dict[str, str] | None], None]
KEEP_SECONDS = 3600


def start(
    sandbox: Sandbox, request: web.Request, *, kind: str, on_terminal: OnTerminal | None = None
) -> Operation:
    found = effects(request)
    polls = found.provisioning_polls
    operation: Operation = {
        "id": str(uuid.uuid4()),
        "kind": kind,
        "workDone": False,
        "terminal": None,
        "pollsLeft": int(sandbox.settings["lroPolls"] if polls is None else polls),
        "error": None,
        "injectedFailure": found.lro_failed,
        "onTerminal": on_terminal,
        "started": time.time(),
    }
    sandbox.operations[operation["id"]] = operation
    _forget_old(sandbox)
    return operation


def finish(sandbox: Sandbox, operation: Operation, error: dict[str, str] | None = None) -> None:
    """The work behind the operation is over (``error`` when it failed)."""
    operation["workDone"] = True
    operation["error"] = error
    if operation["pollsLeft"] <= 0:
        _conclude(operation)
        return
    delay = operation["pollsLeft"] * max(1.0, float(sandbox.settings["lroRetryAfter"])) + 1.0
    asyncio.get_running_loop().call_later(delay, _conclude, operation)


def _conclude(operation: Operation) -> None:
    if operation["terminal"]:
        return
    failure = operation["error"]
    if operation["injectedFailure"] and not failure:
        code, message = operation["injectedFailure"]
        failure = {"code": code, "message": message}
    operation["error"] = failure
    operation["terminal"] = "Failed" if failure else "Succeeded"
    callback = operation["onTerminal"]
    if callback is not None:
        callback(operation["terminal"], failure)


def settled(operation: Operation) -> str | None:
    """The terminal status if the operation is over with no ``InProgress`` answers owed
    (so a caller may answer synchronously), else None."""
    if operation["terminal"] is None and operation["workDone"] and operation["pollsLeft"] <= 0:
        _conclude(operation)
    return operation["terminal"] if operation["pollsLeft"] <= 0 else None


def poll(operation: Operation) -> str:
    """One client poll: ``InProgress`` or the terminal status."""
    if operation["terminal"]:
        return str(operation["terminal"])
    if operation["pollsLeft"] > 0:
        operation["pollsLeft"] -= 1
        return "InProgress"
    if not operation["workDone"]:
        return "InProgress"
    _conclude(operation)
    return str(operation["terminal"])


def _forget_old(sandbox: Sandbox) -> None:
    if len(sandbox.operations) < 1000:
        return
    horizon = time.time() - KEEP_SECONDS
    for op_id in [k for k, v in sandbox.operations.items() if v["started"] < horizon]:
        del sandbox.operations[op_id]


def _query(request: web.Request) -> str:
    return request.query.get("api-version", "")


def status_url(
    sandbox: Sandbox, resource_id: str, operation: Operation, request: web.Request
) -> str:
    return (
        f"{sandbox.base_url}{resource_id}/operationStatuses/{operation['kind']}-"
        f"{operation['id']}?api-version={_query(request)}"
    )


def result_url(sandbox: Sandbox, scope: str, operation: Operation, request: web.Request) -> str:
    return (
        f"{sandbox.base_url}{scope}/operationResults/{operation['kind']}-"
        f"{operation['id']}?api-version={_query(request)}"
    )


def lookup(sandbox: Sandbox, raw: str) -> Operation:
    op_id = raw.rsplit("-", 5)[-5:]
    operation = sandbox.operations.get("-".join(op_id))
    if operation is None:
        raise ArmError(404, "OperationNotFound", f"The operation '{raw}' could not be found.")
    return operation


def retry_after(sandbox: Sandbox) -> str:
    return str(sandbox.settings["lroRetryAfter"])


async def get_status(request: web.Request, params: dict[str, str]) -> web.Response:
    sandbox = ctx(request)
    operation = lookup(sandbox, params["op"])
    status = poll(operation)
    body: dict[str, Any] = {"status": status}
    headers: dict[str, str] = {}
    if status == "InProgress":
        headers["Retry-After"] = retry_after(sandbox)
    if status == "Failed":
        body["error"] = {k: v for k, v in operation["error"].items() if k != "status"}
    return json_response(body, headers=headers)


async def get_result(request: web.Request, params: dict[str, str]) -> web.Response:
    sandbox = ctx(request)
    operation = lookup(sandbox, params["op"])
    status = poll(operation)
    if status == "InProgress":
        return web.Response(
            status=202,
            headers={"Location": str(request.url), "Retry-After": retry_after(sandbox)},
        )
    if status == "Failed":
        error = operation["error"] or {}
        raise ArmError(
            int(error.get("status", 400)),
            str(error.get("code", "OperationFailed")),
            str(error.get("message", "The operation failed.")),
        )
    return web.Response(status=200)
