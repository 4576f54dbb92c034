"""PrincipalNotFound is retried by the outer retry only within the replication window.

The role-assignment handler marks the error transient; the one outer loop re-runs the
create while the window lasts, then reports the error (no second, nested loop)."""

from __future__ import annotations

import pytest

from acr_reconcile.apply.retry import OuterRetry, call
from acr_reconcile.errors import AzureError


class Clock:
    """A clock that advances only by the delays slept."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _lag() -> AzureError:
    return AzureError(
        "/ra", "principal not found", status=400, code="PrincipalNotFound", transient=True
    )


def test_principal_not_found_is_retried_until_the_principal_replicates() -> None:
    outcomes: list[AzureError | str] = [_lag()] * 5 + ["assigned"]
    clock = Clock()

    def attempt() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, AzureError):
            raise outcome
        return outcome

    policy = OuterRetry(attempts=4, window=60)
    assert call(attempt, "/ra", "assigning", policy, sleep=clock.sleep, clock=lambda: clock.now)
    assert clock.slept == [1.0, 2.0, 4.0, 8.0, 15.0]  # past the 4 attempts: the window rules


def test_the_window_bounds_the_waiting_and_the_error_is_kept() -> None:
    clock = Clock()

    def attempt() -> str:
        raise _lag()

    with pytest.raises(AzureError) as raised:
        call(
            attempt,
            "/ra",
            "assigning",
            OuterRetry(attempts=1, window=8),
            sleep=clock.sleep,
            clock=lambda: clock.now,
        )
    assert raised.value.code == "PrincipalNotFound"
    assert sum(clock.slept) <= 8 and clock.slept == [1.0, 2.0, 4.0]


def test_other_refusals_are_not_waited_for() -> None:
    clock = Clock()

    def attempt() -> str:
        raise AzureError("/ra", "forbidden", status=403, code="AuthorizationFailed")

    with pytest.raises(AzureError):
        call(
            attempt,
            "/ra",
            "assigning",
            OuterRetry(window=60),
            sleep=clock.sleep,
            clock=lambda: clock.now,
        )
    assert clock.slept == []
