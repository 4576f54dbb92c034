"""Fault injection: rules that make matching requests slow, failing, reset or whose
long-running operations end ``Failed`` or stay ``InProgress`` for a while.

Rules come from ``faults.json`` in the state dir (read at start) or from the admin API.
A rule fires for requests whose method and path match its regexes, at most ``count``
times (unlimited when absent) and each time with ``probability``. A rule belongs to one
``plane``: ``control`` (ARM, Entra, Graph; the default) or ``data`` (every registry's
loginServer: token service, registry and trust API), so existing control-plane rules such
as "latency on everything" never slow the registries down by surprise.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acr_sandbox.contracts import DataPlaneFault

FAULTS_FILE = "faults.json"
STATUS_CODES = {429: "TooManyRequests", 500: "InternalServerError", 503: "ServiceUnavailable"}
PLANES = ("control", "data")


class FaultRuleError(ValueError):
    """A fault rule is malformed; the message names the rule and the field."""


@dataclass
class FaultRule:
    method: re.Pattern[str]
    path: re.Pattern[str]
    count: int | None = None
    probability: float = 1.0
    latency_ms: int = 0
    status: int | None = None
    retry_after: int = 1
    reset: bool = False
    lro_failed: bool = False
    error_code: str = "InternalServerError"
    error_message: str = "The operation failed (injected by the sandbox)."
    provisioning_polls: int | None = None
    plane: str = "control"
    fired: int = 0

    def describe(self) -> dict[str, Any]:
        return {
            "method": self.method.pattern,
            "path": self.path.pattern,
            "count": self.count,
            "probability": self.probability,
            "latencyMs": self.latency_ms,
            "status": self.status,
            "retryAfter": self.retry_after,
            "reset": self.reset,
            "lro": "failed" if self.lro_failed else None,
            "provisioningPolls": self.provisioning_polls,
            "plane": self.plane,
            "fired": self.fired,
        }


@dataclass(frozen=True)
class Effects:
    """The combined effect of every rule that fired for one request."""

    latency_ms: int = 0
    status: int | None = None
    retry_after: int = 1
    reset: bool = False
    lro_failed: tuple[str, str] | None = None
    provisioning_polls: int | None = None

    @property
    def any(self) -> bool:
        return bool(self.latency_ms or self.status or self.reset or self.lro_failed) or (
            self.provisioning_polls is not None
        )


def parse_rule(index: int, raw: Any) -> FaultRule:
    if not isinstance(raw, dict):
        raise FaultRuleError(f"rule {index}: must be an object")
    known = {
        "method", "path", "count", "probability", "latencyMs", "status", "retryAfter",
        "reset", "lro", "errorCode", "errorMessage", "provisioningPolls", "plane",
    }  # fmt: skip
    unknown = set(raw) - known
    if unknown:
        raise FaultRuleError(f"rule {index}: unknown field(s) {', '.join(sorted(unknown))}")
    try:
        rule = FaultRule(
            method=re.compile(str(raw.get("method", ".*")), re.IGNORECASE),
            path=re.compile(str(raw.get("path", ".*")), re.IGNORECASE),
            count=None if raw.get("count") is None else int(raw["count"]),
            probability=float(raw.get("probability", 1.0)),
            latency_ms=int(raw.get("latencyMs", 0)),
            status=None if raw.get("status") is None else int(raw["status"]),
            retry_after=int(raw.get("retryAfter", 1)),
            reset=bool(raw.get("reset", False)),
            lro_failed=raw.get("lro") == "failed",
            error_code=str(raw.get("errorCode", "InternalServerError")),
            error_message=str(
                raw.get("errorMessage", "The operation failed (injected by the sandbox).")
            ),
            provisioning_polls=(
                None if raw.get("provisioningPolls") is None else int(raw["provisioningPolls"])
            ),
            plane=str(raw.get("plane", "control")),
        )
    except (re.error, TypeError, ValueError) as error:
        raise FaultRuleError(f"rule {index}: {error}") from None
    if rule.status is not None and rule.status not in STATUS_CODES:
        raise FaultRuleError(f"rule {index}: status must be one of 429, 500, 503")
    if raw.get("lro") not in (None, "failed"):
        raise FaultRuleError(f"rule {index}: lro must be 'failed'")
    if rule.plane not in PLANES:
        raise FaultRuleError(f"rule {index}: plane must be one of {', '.join(PLANES)}")
    return rule


class FaultInjector:
    def __init__(self, seed: int | None = None) -> None:
        self.rules: list[FaultRule] = []
        self._random = random.Random(seed)

    def set_rules(self, raw_rules: Any) -> None:
        if not isinstance(raw_rules, list):
            raise FaultRuleError("faults must be a JSON list of rules")
        self.rules = [parse_rule(i, raw) for i, raw in enumerate(raw_rules)]

    def load_file(self, state_dir: Path) -> None:
        path = state_dir / FAULTS_FILE
        if path.exists():
            try:
                self.set_rules(json.loads(path.read_text()))
            except ValueError as error:
                raise FaultRuleError(f"{path}: {error}") from None

    def effects_for(self, method: str, path: str, plane: str = "control") -> Effects:
        if not self.rules:
            return Effects()
        fired = [
            rule for rule in self.rules if rule.plane == plane and self._fires(rule, method, path)
        ]
        if not fired:
            return Effects()
        status = next((r for r in fired if r.status), None)
        failed = next((r for r in fired if r.lro_failed), None)
        polls = next(
            (r.provisioning_polls for r in fired if r.provisioning_polls is not None), None
        )
        return Effects(
            latency_ms=sum(r.latency_ms for r in fired),
            status=status.status if status else None,
            retry_after=status.retry_after if status else 1,
            reset=any(r.reset for r in fired),
            lro_failed=(failed.error_code, failed.error_message) if failed else None,
            provisioning_polls=polls,
        )

    def data_plane_fault(self, method: str, path: str) -> DataPlaneFault | None:
        """The effects of ``data`` rules on one loginServer request (the data plane's hook)."""
        found = self.effects_for(method, path, plane="data")
        if not (found.latency_ms or found.status or found.reset):
            return None
        return DataPlaneFault(found.latency_ms, found.status, found.retry_after, found.reset)

    def _fires(self, rule: FaultRule, method: str, path: str) -> bool:
        if rule.count is not None and rule.fired >= rule.count:
            return False
        if not rule.method.fullmatch(method) or not rule.path.search(path):
            return False
        if rule.probability < 1.0 and self._random.random() >= rule.probability:
            return False
        rule.fired += 1
        return True
