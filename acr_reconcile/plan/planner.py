"""The planner: spec documents + live state + platform rules -> Plan. Pure and deterministic.

No I/O and no clock (``rules.today`` is the date): the same inputs always give the same
plan, byte for byte once rendered, which is what makes plans reviewable, testable from
data files, and comparable. Per document, in apply order: resource group, registry,
trust policy, signing vault, role assignments, signing certificate, image imports, tag
signatures (see docs/planning.md).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from acr_reconcile.errors import Diagnostic
from acr_reconcile.live.state import LiveState, PlatformRules
from acr_reconcile.plan.assignments import plan_role_assignments
from acr_reconcile.plan.context import DocumentContext
from acr_reconcile.plan.control import plan_registry, plan_resource_group, plan_trust_policy
from acr_reconcile.plan.fingerprint import fingerprints_of, live_observations
from acr_reconcile.plan.folding import folded_addresses
from acr_reconcile.plan.images import check_signing, plan_images
from acr_reconcile.plan.keyvault import plan_key_vault
from acr_reconcile.plan.migration import plan_migration
from acr_reconcile.plan.model import Change, Kind, Plan, Reason, TargetSummary
from acr_reconcile.spec.document import SpecDocument

_KIND_ORDER = {kind: index for index, kind in enumerate(Kind)}


def _plan_document(doc: SpecDocument, live: LiveState, rules: PlatformRules) -> DocumentContext:
    spec = doc.spec
    data = live.registries.get((spec.subscription_id.lower(), spec.registry.name.lower()))
    ctx = DocumentContext(doc, live, rules, data)
    plan_resource_group(ctx)
    plan_registry(ctx)
    if not ctx.blocked:
        plan_trust_policy(ctx)
        plan_role_assignments(ctx)
        plan_key_vault(ctx)
        plan_images(ctx)
        check_signing(ctx)
        plan_migration(ctx)  # a migration from DCT, or its continuation once trust is off
    return ctx


def _merge(contexts: Sequence[DocumentContext]) -> tuple[list[Change], list[Diagnostic]]:
    """Join the documents' changes; a resource two documents both declare must agree."""
    first: dict[str, tuple[Change, DocumentContext]] = {}
    merged: list[Change] = []
    for ctx in contexts:
        for change in ctx.changes:
            seen = first.get(change.address)
            if seen is None:
                first[change.address] = (change, ctx)
                merged.append(change)
                continue
            if change.kind is Kind.REGISTRY or (
                change.kind is Kind.RESOURCE_GROUP and change.after != seen[0].after
            ):
                ctx.error(
                    change.resource_id,
                    f"{change.kind.value} is already declared by the document at "
                    f"{seen[1].doc.location('')}; one resource, one declaration",
                    "registry.name" if change.kind is Kind.REGISTRY else "resourceGroup",
                    "declared-twice",
                )
    diagnostics: list[Diagnostic] = []
    for ctx in contexts:
        for diagnostic in ctx.diagnostics:
            if diagnostic not in diagnostics:
                diagnostics.append(diagnostic)
    return merged, diagnostics


def _owned(contexts: Sequence[DocumentContext], ctx: DocumentContext) -> set[str]:
    earlier = {c.address for other in contexts[: contexts.index(ctx)] for c in other.changes}
    return {c.address for c in ctx.changes} - earlier


def _summary(ctx: DocumentContext, owned: set[str]) -> TargetSummary:
    """``owned``: the addresses this document declared first; a resource group documents
    share is counted in the first one's row only, so the rows add up to the plan. The
    trust policy of a registry the document creates counts with the registry, as the
    plan's closing line counts it (plan/folding.py)."""
    spec = ctx.doc.spec
    pending = [c for c in ctx.changes if c.is_change]
    with_registry = folded_addresses(ctx.changes)
    if any(d.severity == "error" for d in ctx.diagnostics):
        status = "error"
    elif any(c.reason is Reason.DRIFT for c in pending):
        status = "drift"
    else:
        status = "pending" if pending else "in-sync"
    return TargetSummary(
        subscription_id=spec.subscription_id,
        resource_group=spec.resource_group.name,
        registry=spec.registry.name,
        source=str(ctx.doc.location("")),
        status=status,
        changes=sum(1 for c in pending if c.address in owned - with_registry),
    )


def _in_dependency_order(changes: Sequence[Change]) -> list[Change]:
    """Kind order (then address), except that no change comes before one it depends on:
    a migration disables trust only after the signatures that carry DCT's over. Kahn's
    algorithm over a heap keyed by kind order, so a plan of any size sorts in n log n."""
    key = {c.address: (_KIND_ORDER[c.kind], c.address) for c in changes}
    by_address = {c.address: c for c in changes}
    waiting: dict[str, list[str]] = {}
    missing: dict[str, int] = {}
    for change in changes:
        needs = {d for d in change.depends_on if d in by_address and d != change.address}
        missing[change.address] = len(needs)
        for dependency in needs:
            waiting.setdefault(dependency, []).append(change.address)
    heap = [key[a] for a, n in missing.items() if n == 0]
    heapq.heapify(heap)
    ordered: list[Change] = []
    while heap:
        address = heapq.heappop(heap)[1]
        ordered.append(by_address[address])
        for dependent in waiting.get(address, ()):
            missing[dependent] -= 1
            if missing[dependent] == 0:
                heapq.heappush(heap, key[dependent])
    placed = {c.address for c in ordered}  # a cycle cannot be ordered: kind order for it
    ordered += sorted((c for c in changes if c.address not in placed), key=lambda c: key[c.address])
    return ordered


def plan(documents: Sequence[SpecDocument], live: LiveState, rules: PlatformRules) -> Plan:
    """The ordered changes that make ``live`` match ``documents``, with every finding."""
    contexts = [_plan_document(doc, live, rules) for doc in documents]
    changes, diagnostics = _merge(contexts)
    ordered = _in_dependency_order(changes)
    observed = live_observations(documents, live)
    return Plan(
        changes=tuple(ordered),
        diagnostics=tuple(diagnostics),
        targets=tuple(_summary(ctx, _owned(contexts, ctx)) for ctx in contexts),
        fingerprints=fingerprints_of(observed),
        destroys_trust=any(c.is_change and c.destroys_trust for c in ordered),
        observed=observed,
    )
