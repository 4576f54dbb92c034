"""A bounded outer retry around one Azure operation, for what the SDK does not retry.

The SDK retries each HTTP request (429/5xx with ``Retry-After``, connection errors). It
does not retry a long-running operation whose status monitor ends ``Failed`` with a
transient code, nor a request whose retries all hit a connection reset; this loop
re-runs the whole (idempotent) operation a few times with exponential backoff. The data
plane has no SDK retry for writes at all: a trust upload refused with 429/5xx or cut off
is re-run here too (the publish re-reads first, so one that landed is not repeated).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from acr_reconcile.azure.errors import is_transient, translate
from acr_reconcile.errors import RegistryError, TrustServerError

T = TypeVar("T")


@dataclass(frozen=True)
class OuterRetry:
    attempts: int = 4
    base_delay: float = 1.0
    max_delay: float = 15.0

    def delay(self, attempt: int) -> float:
        return float(min(self.max_delay, self.base_delay * (2**attempt)))


def call(
    operation: Callable[[], T],
    resource: str,
    doing: str,
    policy: OuterRetry,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``operation()``, re-run on transient failure; SDK errors become AzureErrors."""
    from azure.core.exceptions import AzureError as SdkError

    attempt = 0
    while True:
        try:
            return operation()
        except SdkError as error:
            if not is_transient(error) or attempt + 1 >= policy.attempts:
                raise translate(error, resource, doing) from None
        except RegistryError as error:
            if not registry_transient(error) or attempt + 1 >= policy.attempts:
                raise
        except TrustServerError as error:
            if not trust_transient(error) or attempt + 1 >= policy.attempts:
                raise
        sleep(policy.delay(attempt))
        attempt += 1


def registry_transient(error: RegistryError) -> bool:
    """A registry data plane answer worth retrying: unreachable, or a 5xx/429 status."""
    text = str(error)
    return "cannot reach" in text or any(f"HTTP {s}" in text for s in (429, 500, 502, 503, 504))


def trust_transient(error: TrustServerError) -> bool:
    """A trust server answer worth retrying: unreachable, or a 429/5xx status."""
    return "cannot reach" in str(error) or error.status in (429, 500, 502, 503, 504)
