"""Content trust rules for registry writes, as Azure applies them.

Known from Azure (see docs/sandbox.md): since the 2026-05-31 cut-off, enabling trust on a
registry that never had it answers 400 ``ContentTrustUnsupported``; a registry that has
it keeps it; once disabled it cannot be enabled again. Sandbox assumptions (Azure's codes
are not documented): non-Premium → 400 ``ContentTrustNotSupportedForSku``; downgrading a
Premium registry with trust enabled → 400 ``SkuDowngradeBlockedByContentTrust``; trust in
ABAC mode → 400 ``ContentTrustNotSupportedWithAbac``. In ``legacy`` mode (the years before
the cut-off) any Premium registry may enable trust, again and again.
"""

from __future__ import annotations

from dataclasses import dataclass

from acr_sandbox.arm.errors import ArmError

UNSUPPORTED_MESSAGE = (
    "The value 'enabled' for property 'status' in 'trustPolicy' is not supported. Content "
    "Trust is being deprecated and will be completely removed on March 31, 2028. Refer to "
    "https://aka.ms/acr/dctdeprecation for details and transition guidance."
)
ABAC = "AbacRepositoryPermissions"


@dataclass(frozen=True)
class TrustView:
    """What the rules need to know about one side (before/after) of a write."""

    sku: str
    trust_enabled: bool
    role_assignment_mode: str


def check(
    name: str,
    before: TrustView | None,
    after: TrustView,
    *,
    mode: str,
) -> None:
    """Raise the ArmError Azure would answer for this write, or return."""
    enabling = after.trust_enabled and not (before and before.trust_enabled)
    if after.trust_enabled and after.role_assignment_mode == ABAC:
        raise ArmError(
            400,
            "ContentTrustNotSupportedWithAbac",
            f"Content trust is not supported for the registry '{name}' with role assignment "
            f"mode '{ABAC}'. Signing images with Docker Content Trust is not supported for "
            "ABAC-enabled registries.",
        )
    if before and before.trust_enabled and after.sku != "Premium":
        raise ArmError(
            400,
            "SkuDowngradeBlockedByContentTrust",
            f"The registry '{name}' cannot be moved from SKU 'Premium' to '{after.sku}' while "
            "its content trust policy is enabled. Content trust is only supported for "
            "registries in Premium SKU.",
        )
    if after.trust_enabled and after.sku != "Premium":
        raise ArmError(
            400,
            "ContentTrustNotSupportedForSku",
            f"Content trust is only supported for managed registries in Premium SKU. The "
            f"registry '{name}' has SKU '{after.sku}'.",
        )
    if enabling and mode != "legacy":
        # today's rules: only a registry that has trust now may keep it
        raise ArmError(400, "ContentTrustUnsupported", UNSUPPORTED_MESSAGE)
