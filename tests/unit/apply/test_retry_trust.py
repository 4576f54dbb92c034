"""The outer retry re-runs a trust publish the server throttled, failed or cut off, and
only those: a refusal or a key problem is reported at once."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from acr_reconcile.apply.retry import OuterRetry, call
from acr_reconcile.errors import SigningKeyError, TrustServerError

POLICY = OuterRetry(attempts=3, base_delay=0.0)


def _failing(errors: list[Exception]) -> tuple[list[int], Callable[[], str]]:
    calls: list[int] = []

    def operation() -> str:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return "signed"

    return calls, operation


@pytest.mark.parametrize(
    "error",
    [
        TrustServerError("gun: the trust server refused publish (HTTP 429)", status=429),
        TrustServerError("gun: the trust server refused publish (HTTP 503)", status=503),
        TrustServerError("gun: cannot reach the trust server https://x", transient=True),
    ],
)
def test_transient_trust_failures_are_retried(error: TrustServerError) -> None:
    calls, operation = _failing([error, error])
    assert call(operation, "gun", "publishing", POLICY, sleep=lambda _: None) == "signed"
    assert len(calls) == 3


@pytest.mark.parametrize(
    "error",
    [
        TrustServerError("gun: not authorized (HTTP 401)", status=401),
        TrustServerError("gun: gave up after 8 version conflicts", status=400, code="VERSION"),
        SigningKeyError("gun: no local private key for targets"),
        TrustServerError("gun: cannot reach the trust server (HTTP 503), says only the text"),
    ],
)
def test_refusals_are_reported_at_once(error: Exception) -> None:
    calls, operation = _failing([error])
    with pytest.raises(type(error)):
        call(operation, "gun", "publishing", POLICY, sleep=lambda _: None)
    assert len(calls) == 1


def test_a_trust_failure_outliving_the_attempts_is_raised() -> None:
    error = TrustServerError("gun: the trust server refused publish (HTTP 500)", status=500)
    calls, operation = _failing([error] * 5)
    with pytest.raises(TrustServerError):
        call(operation, "gun", "publishing", POLICY, sleep=lambda _: None)
    assert len(calls) == POLICY.attempts
