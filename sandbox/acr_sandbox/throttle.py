"""ARM's request throttling: token buckets per subscription and operation kind.

Azure documents buckets of 250 reads refilled at 25/s and 200 writes or deletes refilled
at 10/s per subscription; the remaining count is reported on every response in the
``x-ms-ratelimit-remaining-subscription-*`` headers, and an empty bucket answers 429.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

KINDS = {"GET": "reads", "HEAD": "reads", "DELETE": "deletes"}
# POST actions that only read: ARM counts them against the reads bucket (a real
# checkNameAvailability answer carries x-ms-ratelimit-remaining-subscription-reads).
READ_ACTIONS = ("/checknameavailability",)


def kind_of(method: str, path: str = "") -> str:
    if method == "POST" and path.lower().rstrip("/").endswith(READ_ACTIONS):
        return "reads"
    return KINDS.get(method, "writes")


@dataclass
class Bucket:
    tokens: float
    stamp: float


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: int
    retry_after: int  # seconds, when not allowed


class Throttle:
    def __init__(
        self, settings: Callable[[], dict[str, Any]], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._buckets: dict[tuple[str, str], Bucket] = {}

    def reset(self) -> None:
        self._buckets.clear()

    def take(self, subscription: str, kind: str) -> Decision | None:
        """Spend one token; ``None`` when throttling is switched off."""
        settings = self._settings()
        if not settings.get("enabled", True):
            return None
        rate = settings[kind]
        capacity, refill = float(rate["capacity"]), float(rate["refill"])
        now = self._clock()
        key = (subscription.lower(), kind)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = Bucket(capacity, now)
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.stamp) * refill)
        bucket.stamp = now
        if bucket.tokens < 1.0:
            wait = max(1, math.ceil((1.0 - bucket.tokens) / refill))
            return Decision(False, 0, wait)
        bucket.tokens -= 1.0
        return Decision(True, int(bucket.tokens), 0)
