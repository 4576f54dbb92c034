"""The executor's outer retry: re-runs one whole (idempotent) operation, nothing smaller.

Each layer has one retry owner. azure-core's retry policy retries every SDK request
(429/5xx with ``Retry-After``, connection errors); the data-plane sessions' policy
(``acr_reconcile.registry.sessions``) retries registry, token and trust reads. What neither can
retry is an operation: a long-running operation whose monitor ends ``Failed`` with a
transient code, a request whose retries all failed, a trust upload (never retried on the
wire: the publish re-reads first, so one that landed is not repeated), or a role
assignment refused with ``PrincipalNotFound`` while a new principal replicates. This
loop re-runs those, deciding only by the error's ``transient`` attribute, which the
client that saw the failure set.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from acr_reconcile.azure.errors import translate
from acr_reconcile.errors import AcrReconcileError

T = TypeVar("T")


@dataclass(frozen=True)
class OuterRetry:
    attempts: int = 4
    base_delay: float = 1.0
    max_delay: float = 15.0
    # keep re-running past ``attempts`` while this many seconds since the first try have
    # not passed (a new principal may take up to a minute to reach ARM's directory)
    window: float = 0.0

    def delay(self, attempt: int) -> float:
        return float(min(self.max_delay, self.base_delay * (2**attempt)))


def call(
    operation: Callable[[], T],
    resource: str,
    doing: str,
    policy: OuterRetry,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """``operation()``, re-run while it fails transiently; SDK errors become AzureErrors."""
    from azure.core.exceptions import AzureError as SdkError

    started = clock()
    attempt = 0

    def give_up(failure: AcrReconcileError) -> bool:
        if not failure.transient:
            return True
        out_of_attempts = attempt + 1 >= policy.attempts
        return out_of_attempts and clock() + policy.delay(attempt) - started > policy.window

    while True:
        try:
            return operation()
        except SdkError as error:
            failure = translate(error, resource, doing)
            if give_up(failure):
                raise failure from None
        except AcrReconcileError as error:
            if give_up(error):
                raise
        sleep(policy.delay(attempt))
        attempt += 1
