"""Key Vault's published per-vault service limits, as weighted 10-second windows.

Azure's table (per vault per region, per 10 s, software keys): key CREATE 20; all other
key transactions 4,000 for RSA 2048 and every EC curve, 1,000 for RSA 3072, 500 for RSA
4096; secret CREATE 300; all other secret and vault transactions 4,000. The thresholds are
weighted and enforced on their sum, so an RSA-4096 sign costs 8 of the 4,000 units (4000 /
500). A request over the limit answers 429 ``Throttled`` with ``Retry-After`` = the seconds
until the window ends.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# weight of one "other" key transaction by key strength (4000 / the table's limit)
WEIGHTS = {"RSA2048": 1.0, "RSA3072": 4.0, "RSA4096": 8.0, "EC": 1.0}


@dataclass
class Window:
    started: float
    used: dict[str, float]


class VaultLimits:
    def __init__(
        self, settings: Callable[[], dict[str, Any]], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._windows: dict[str, Window] = {}

    def reset(self) -> None:
        self._windows.clear()

    def take(self, vault: str, bucket: str, weight: float = 1.0) -> int | None:
        """Spend ``weight`` units of ``bucket`` ("transactions", "keyCreates",
        "secretCreates"); the Retry-After seconds when over the limit, else None."""
        settings = self._settings()
        if not settings.get("enabled", True):
            return None
        length = float(settings["windowSeconds"])
        limit = float(settings[bucket])
        now = self._clock()
        window = self._windows.get(vault)
        if window is None or now - window.started >= length:
            window = self._windows[vault] = Window(now, {})
        used = window.used.get(bucket, 0.0)
        if used + weight > limit:
            return max(1, math.ceil(window.started + length - now))
        window.used[bucket] = used + weight
        return None
