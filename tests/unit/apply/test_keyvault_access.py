"""The bounded wait for Key Vault to honour a new role assignment (apply/keyvault_access.py).

Only an apply that granted a Key Vault role waits on 403, says so each time, and gives up
with one clear error when the window ends; without a grant a 403 fails at once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from azure.core.exceptions import HttpResponseError

from acr_reconcile.apply.context import ApplyContext
from acr_reconcile.apply.keyvault_access import until_authorized
from acr_reconcile.azure.clients import AzureSession
from acr_reconcile.azure.cloud import Cloud
from acr_reconcile.errors import AzureError


def _forbidden() -> HttpResponseError:
    error = HttpResponseError(message="Caller is not authorized (ForbiddenByRbac)")
    error.status_code = 403
    return error


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def time(self) -> float:
        return self.now


def _ctx(said: list[str], window: float = 30.0) -> ApplyContext:
    arm = "https://arm.example"
    cloud = Cloud("test", arm, "https://login.example", "https://graph.example", arm, "azurecr.io")
    ctx = ApplyContext(session=AzureSession(cloud, credential=None, verify=True))
    return replace(ctx, say=said.append, key_vault_window=window)


def _wait(operation: Callable[[], str], granted: bool, ctx: ApplyContext, clock: Clock) -> str:
    return until_authorized(operation, "kv", granted, ctx, sleep=clock.sleep, clock=clock.time)


def _flaky(failures: int) -> tuple[list[int], Callable[[], str]]:
    calls: list[int] = []

    def operation() -> str:
        calls.append(1)
        if len(calls) <= failures:
            raise _forbidden()
        return "created"

    return calls, operation


def test_after_a_grant_403s_are_waited_out_and_reported() -> None:
    said: list[str] = []
    clock = Clock()
    calls, operation = _flaky(3)
    result = _wait(operation, True, _ctx(said), clock)
    assert result == "created" and len(calls) == 4
    assert len(said) == 3
    assert "waiting for the new Key Vault role assignment" in said[0]
    assert "key vault kv" in said[0] and "at most 30s" in said[0]


def test_without_a_grant_a_403_fails_at_once_and_nothing_waits() -> None:
    said: list[str] = []
    clock = Clock()
    calls, operation = _flaky(1)
    with pytest.raises(HttpResponseError):
        _wait(operation, False, _ctx(said), clock)
    assert len(calls) == 1 and said == [] and clock.now == 0.0


def test_the_wait_is_bounded_by_the_window() -> None:
    said: list[str] = []
    clock = Clock()
    calls, operation = _flaky(10_000)
    with pytest.raises(AzureError) as raised:
        _wait(operation, True, _ctx(said, window=12), clock)
    assert clock.now == 12.0  # never sleeps past the window
    assert raised.value.status == 403 and "still 403 after waiting 12s" in str(raised.value)
    assert len(calls) == len(said) + 1
