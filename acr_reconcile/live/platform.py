"""What the target cloud allows today, derived from its endpoints before planning.

The rules are a live fact like any read: the planner takes them as a ``PlatformRules``
value and never asks the cloud itself, so it stays a pure function.
"""

from __future__ import annotations

from datetime import date

from acr_reconcile.azure.cloud import Cloud
from acr_reconcile.live.state import PlatformRules


def platform_rules(cloud: Cloud, today: date | None = None) -> PlatformRules:
    """Whether new content trust enablement is allowed, as of ``today``.

    Azure stopped new Docker Content Trust enablement on 2026-05-31. A sandbox may emulate
    the years before (``contentTrustNewEnablement: allowed``); the plan then says so.
    """
    today = today or date.today()
    rules = PlatformRules(today=today, new_trust_enablement_allowed=True)
    mode = cloud.sandbox_trust_enablement
    if mode == "allowed":
        return PlatformRules(
            today=today,
            new_trust_enablement_allowed=True,
            note="the sandbox emulates the rules before the content trust cut-off (legacy DCT)",
        )
    if mode == "retired":
        return PlatformRules(
            today=today,
            new_trust_enablement_allowed=False,
            note="the sandbox emulates today's Azure: new content trust enablement is retired",
        )
    allowed = today < rules.trust_enablement_cutoff
    return PlatformRules(today=today, new_trust_enablement_allowed=allowed)
