"""Platform rules known at plan time: what Azure would refuse, said before anything changes.

Each rule becomes a Diagnostic at the spec field concerned, naming the rule and what to do,
so a user learns it from ``plan`` rather than from a 400 halfway through ``apply``. The
``rule`` detail is a stable identifier machines (CI annotations, JSON) can key on.
"""

from __future__ import annotations

from acr_reconcile.plan.context import DocumentContext
from acr_reconcile.spec.models import Sku, TrustStatus

ABAC_MODE = "AbacRepositoryPermissions"
NOTATION_HINT = "sign with Notary Project (Notation) instead (https://aka.ms/acr/dctdeprecation)"


def _days_left(ctx: DocumentContext) -> int:
    return (ctx.rules.trust_removal - ctx.rules.today).days


def check_trust_enablement(ctx: DocumentContext) -> None:
    """Enabling DCT on a registry that does not have it: refused after the cut-off."""
    rules = ctx.rules
    rid = ctx.registry_id
    if not rules.new_trust_enablement_allowed:
        ctx.error(
            rid,
            f"Azure stopped allowing Docker Content Trust to be enabled on registries that do "
            f"not have it on {rules.trust_enablement_cutoff.isoformat()} and removes it on "
            f"{rules.trust_removal.isoformat()}; {NOTATION_HINT}",
            "registry.contentTrust",
            "content-trust-unsupported",
        )
        return
    note = f" ({rules.note})" if rules.note else ""
    ctx.warn(
        rid,
        f"enabling Docker Content Trust is allowed here{note}, but Azure refuses it on "
        f"registries that do not have it since {rules.trust_enablement_cutoff.isoformat()} "
        f"and removes it on {rules.trust_removal.isoformat()}; {NOTATION_HINT}",
        "registry.contentTrust",
        "content-trust-legacy",
    )


def check_trust_retirement(ctx: DocumentContext) -> None:
    """A registry that keeps DCT: remind that it goes away, with the days left."""
    days = _days_left(ctx)
    when = f"in {days} days" if days >= 0 else f"{-days} days ago"
    ctx.warn(
        ctx.registry_id,
        f"Azure removes Docker Content Trust on {ctx.rules.trust_removal.isoformat()} ({when}); "
        f"plan the move: {NOTATION_HINT}. To migrate, set registry.contentTrust: disabled and "
        "add a notation block with the Key Vault signing key ('acr-reconcile export --to "
        "notation' writes that document; see docs/migrating-from-dct.md)",
        "registry.contentTrust",
        "content-trust-retirement",
    )


def check_sku(ctx: DocumentContext) -> None:
    """Trust needs Premium; a registry with trust enabled cannot leave Premium."""
    spec = ctx.doc.spec.registry
    live = ctx.data.registry if ctx.data else None
    live_trust = live is not None and live.trust_status == TrustStatus.ENABLED.value
    if live and live_trust and live.sku == Sku.PREMIUM.value and spec.sku != Sku.PREMIUM:
        ctx.error(
            ctx.registry_id,
            f"SKU downgrade from Premium to {spec.sku.value} is refused while content trust is "
            "enabled on the registry; keep Premium",
            "registry.sku",
            "sku-downgrade-with-trust",
        )
        return
    if spec.content_trust == TrustStatus.ENABLED and spec.sku != Sku.PREMIUM:
        ctx.error(
            ctx.registry_id,
            f"content trust needs the Premium SKU, the spec says {spec.sku.value}; "
            "set registry.sku: Premium",
            "registry.sku",
            "trust-needs-premium",
        )


def check_trust_compatibility(ctx: DocumentContext) -> None:
    """ABAC permission mode and customer-managed keys both rule DCT out."""
    if ctx.data is None or ctx.doc.spec.registry.content_trust != TrustStatus.ENABLED:
        return
    live = ctx.data.registry
    if live.role_assignment_mode == ABAC_MODE:
        ctx.error(
            ctx.registry_id,
            "the registry uses ABAC repository permissions (AbacRepositoryPermissions), and "
            "Docker Content Trust signing is not supported in that mode; switch the registry "
            f"back to LegacyRegistryPermissions or {NOTATION_HINT}",
            "registry.contentTrust",
            "trust-with-abac",
        )
    if live.encryption_enabled:
        ctx.error(
            ctx.registry_id,
            "the registry is encrypted with a customer-managed key, and Docker Content Trust "
            f"is not supported on such registries; {NOTATION_HINT}",
            "registry.contentTrust",
            "trust-with-cmk",
        )


def warn_trust_destruction(ctx: DocumentContext) -> None:
    ctx.warn(
        ctx.registry_id,
        "disabling content trust deletes every signature in the registry and can never be "
        "undone (Azure does not allow enabling it again); apply needs --allow-destroy-trust",
        "registry.contentTrust",
        "trust-disable-destroys-signatures",
    )
