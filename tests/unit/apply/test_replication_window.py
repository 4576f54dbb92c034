"""PrincipalNotFound is retried only within the replication window, then reported."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ODataV4Format

from acr_reconcile.apply.context import ApplyContext
from acr_reconcile.apply.handlers.role_assignment import _within_window
from acr_reconcile.azure.clients import AzureSession
from acr_reconcile.azure.cloud import PUBLIC_CLOUD


def _error(code: str) -> HttpResponseError:
    error = HttpResponseError(message=f"({code}) refused")
    error.error = ODataV4Format({"error": {"code": code, "message": "refused"}})
    return error


def _ctx(window: float) -> ApplyContext:
    return ApplyContext(session=AzureSession(PUBLIC_CLOUD, None), replication_window=window)


def test_principal_not_found_is_retried_until_the_principal_replicates() -> None:
    outcomes: list[HttpResponseError | str] = [_error("PrincipalNotFound")] * 2 + ["assigned"]
    slept: list[float] = []

    def attempt() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, HttpResponseError):
            raise outcome
        return outcome

    assert _within_window(attempt, _ctx(60), slept.append) == "assigned"
    assert slept == [1.0, 2.0]


def test_the_window_bounds_the_waiting_and_the_error_is_kept() -> None:
    slept: list[float] = []

    def attempt() -> str:
        raise _error("PrincipalNotFound")

    with pytest.raises(HttpResponseError) as raised:
        _within_window(attempt, _ctx(8), slept.append)
    assert raised.value.error.code == "PrincipalNotFound"
    assert sum(slept) <= 8 and slept == [1.0, 2.0, 4.0]


def test_other_refusals_are_not_waited_for() -> None:
    slept: list[float] = []

    def attempt() -> str:
        raise _error("AuthorizationFailed")

    with pytest.raises(HttpResponseError):
        _within_window(attempt, _ctx(60), slept.append)
    assert slept == []
