"""Control-plane changes of one document: resource group, registry, trust policy.

Immutable or misplaced things (a group's location, a registry in another resource group, a
name taken elsewhere) are plan errors, never a delete-and-recreate: a registry holds images and
signatures that a recreate would lose. Tags are managed only when the spec writes them,
so a spec that says nothing about tags does not strip tags that policies put there.
"""

from __future__ import annotations

from typing import Any

from acr_reconcile.live.state import APPLIED_TAG, LiveResourceGroup
from acr_reconcile.plan import migration, names, rules
from acr_reconcile.plan.context import DocumentContext
from acr_reconcile.plan.diffing import attribute_diff
from acr_reconcile.plan.model import (
    Action,
    Change,
    Kind,
    Reason,
    RegistryParams,
    ResourceGroupParams,
    TrustPolicyParams,
)
from acr_reconcile.spec.models import TrustStatus


def _desired_tags(spec_model: Any, live_tags: dict[str, str] | None) -> dict[str, str]:
    if "tags" in spec_model.model_fields_set or live_tags is None:
        return dict(spec_model.tags)
    return dict(live_tags)


def _rg_change(ctx: DocumentContext, live: LiveResourceGroup | None) -> Change:
    spec = ctx.doc.spec
    sub, name = spec.subscription_id, spec.resource_group.name
    location = spec.resource_group.location
    tags = _desired_tags(spec.resource_group, live.tags if live else None)
    after: dict[str, Any] = {"location": location, "tags": tags}
    before = {"location": live.location, "tags": dict(live.tags)} if live else None
    if live and names.normalise_location(live.location) == names.normalise_location(
        spec.resource_group.location
    ):
        before = {**before, "location": after["location"]} if before else None
    diff = attribute_diff(before, after)
    if live is None:
        action, reason = Action.CREATE, Reason.MISSING
    elif diff:
        action, reason = Action.UPDATE, ctx.changed_reason()
    else:
        action, reason = Action.NOOP, Reason.IN_SYNC
    return Change(
        address=names.resource_group_address(sub, name),
        kind=Kind.RESOURCE_GROUP,
        action=action,
        reason=reason,
        resource_id=live.id if live else names.resource_group_id(sub, name),
        summary=f"resource group {name} ({spec.resource_group.location})",
        before=before,
        after=after,
        diff=diff,
        spec_location=ctx.where("resourceGroup"),
        params=ResourceGroupParams(
            subscription_id=sub, resource_group=name, location=location, tags=dict(tags)
        ),
        target=ctx.target,
    )


def plan_resource_group(ctx: DocumentContext) -> None:
    spec = ctx.doc.spec
    key = (spec.subscription_id.lower(), spec.resource_group.name.lower())
    live = ctx.live.resource_groups.get(key)
    if live and names.normalise_location(live.location) != names.normalise_location(
        spec.resource_group.location
    ):
        ctx.error(
            live.id,
            f"resource group {live.name} is in {live.location}, the spec says "
            f"{spec.resource_group.location}; a resource group's location cannot change, "
            "so fix the spec or use another resource group",
            "resourceGroup.location",
            "resource-group-location-immutable",
        )
    ctx.add(_rg_change(ctx, live))


def _check_placement(ctx: DocumentContext) -> bool:
    """The registry must be where the spec says; if not, report and stop (never recreate)."""
    spec = ctx.doc.spec
    if ctx.data is None:
        availability = ctx.live.name_availability.get(spec.registry.name.lower())
        if availability is not None and not availability.available:
            why = availability.message or availability.reason or "already in use"
            ctx.error(
                ctx.registry_id,
                f"registry name {spec.registry.name} is not available ({why}); registry names "
                "are global, so pick another name or use the subscription that holds it",
                "registry.name",
                "registry-name-taken",
            )
            return False
        return True
    live = ctx.data.registry
    if live.resource_group.lower() != spec.resource_group.name.lower():
        ctx.error(
            live.id,
            f"registry {live.name} exists in resource group {live.resource_group}, the spec says "
            f"{spec.resource_group.name}; fix the spec (the registry is not recreated or moved)",
            "resourceGroup.name",
            "registry-in-other-resource-group",
        )
        return False
    return True


def _registry_state(ctx: DocumentContext) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    spec = ctx.doc.spec.registry
    live = ctx.data.registry if ctx.data else None
    live_tags = {k: v for k, v in live.tags.items() if k != APPLIED_TAG} if live else None
    after = {
        "sku": spec.sku.value,
        "adminUserEnabled": spec.admin_user_enabled,
        "tags": _desired_tags(spec, live_tags),
    }
    if live is None:
        return None, after
    before = {"sku": live.sku, "adminUserEnabled": live.admin_user_enabled, "tags": live_tags}
    return before, after


def plan_registry(ctx: DocumentContext) -> None:
    if not _check_placement(ctx):
        ctx.blocked = True
        return
    spec = ctx.doc.spec
    before, after = _registry_state(ctx)
    diff = attribute_diff(before, after)
    if before is None:
        action, reason = Action.CREATE, Reason.MISSING
    elif diff:
        action, reason = Action.UPDATE, ctx.changed_reason()
    else:
        action, reason = Action.NOOP, Reason.IN_SYNC
    params = RegistryParams(
        subscription_id=ctx.subscription,
        resource_group=ctx.resource_group,
        registry=ctx.registry_name,
        # an existing registry keeps its region (it may differ from its group's): never moved
        location=ctx.data.registry.location if ctx.data else spec.resource_group.location,
        sku=after["sku"],
        admin_user_enabled=after["adminUserEnabled"],
        tags={**after["tags"], APPLIED_TAG: ctx.desired},
    )
    ctx.add(
        Change(
            address=names.registry_address(spec.subscription_id, spec.registry.name),
            kind=Kind.REGISTRY,
            action=action,
            reason=reason,
            resource_id=ctx.registry_id,
            summary=f"registry {spec.registry.name} ({after['sku']})",
            before=before,
            after=after,
            diff=diff,
            depends_on=(
                names.resource_group_address(spec.subscription_id, spec.resource_group.name),
            ),
            spec_location=ctx.where("registry"),
            params=params,
            target=ctx.target,
        )
    )


def _check_trust_rules(ctx: DocumentContext, live_status: str) -> None:
    desired = ctx.doc.spec.registry.content_trust.value
    rules.check_sku(ctx)
    rules.check_trust_compatibility(ctx)
    if desired == TrustStatus.ENABLED.value and live_status != desired:
        rules.check_trust_enablement(ctx)
    elif desired == TrustStatus.ENABLED.value:
        rules.check_trust_retirement(ctx)
    elif live_status == TrustStatus.ENABLED.value:
        rules.warn_trust_destruction(ctx)


def plan_trust_policy(ctx: DocumentContext) -> None:
    spec = ctx.doc.spec
    desired = spec.registry.content_trust.value
    live_status = ctx.data.registry.trust_status if ctx.data else TrustStatus.DISABLED.value
    if migration.is_migration(ctx):
        rules.check_sku(ctx)
        return  # planned after the signatures it depends on (plan/migration.py)
    _check_trust_rules(ctx, live_status)
    if ctx.data is None and desired == TrustStatus.DISABLED.value:
        return  # a new registry starts with trust disabled: nothing to do
    destroys = live_status == TrustStatus.ENABLED.value and desired != live_status
    if desired == live_status:
        action, reason = Action.NOOP, Reason.IN_SYNC
    else:
        action = Action.UPDATE
        reason = ctx.changed_reason() if ctx.data else Reason.MISSING
    before = {"type": "Notary", "status": live_status}
    after = {"type": "Notary", "status": desired}
    ctx.add(
        Change(
            address=names.trust_policy_address(spec.subscription_id, spec.registry.name),
            kind=Kind.TRUST_POLICY,
            action=action,
            reason=reason,
            resource_id=ctx.registry_id,
            summary=f"content trust on {spec.registry.name}: {desired}",
            before=before,
            after=after,
            diff=attribute_diff(before, after),
            depends_on=(names.registry_address(spec.subscription_id, spec.registry.name),),
            spec_location=ctx.where("registry.contentTrust"),
            params=TrustPolicyParams(
                subscription_id=ctx.subscription,
                resource_group=ctx.resource_group,
                registry=ctx.registry_name,
                status=desired,
                destructive=destroys,
            ),
            target=ctx.target,
        )
    )
