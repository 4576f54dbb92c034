"""Principal references of the specs resolved in Microsoft Graph, once per distinct reference.

An unknown principal or an ambiguous display name must surface as a plan-time error, not
as a role assignment that ARM retries for half an hour; so every reference is looked up
before planning and its resolution (found, not found, ambiguous) goes into LiveState.
"""

from __future__ import annotations

from collections.abc import Iterable

from acr_reconcile.azure.graph import COLLECTIONS, GraphClient, GraphPrincipal
from acr_reconcile.errors import AcrReconcileError
from acr_reconcile.live.state import LivePrincipal, PrincipalResolution, ResolutionStatus
from acr_reconcile.spec.document import SpecDocument
from acr_reconcile.spec.models import PrincipalRef

PrincipalKey = tuple[str, str]


def principal_refs(
    documents: Iterable[SpecDocument],
) -> dict[PrincipalKey, tuple[PrincipalRef, str]]:
    """Distinct references of all documents, with the principal type each signer gives."""
    refs: dict[PrincipalKey, tuple[PrincipalRef, str]] = {}
    for doc in documents:
        for signer in doc.spec.signers:
            refs.setdefault(signer.principal.key, (signer.principal, str(signer.principal_type)))
    return refs


def _live(found: GraphPrincipal) -> LivePrincipal:
    return LivePrincipal(
        object_id=found.object_id,
        app_id=found.app_id,
        display_name=found.display_name,
        principal_type=found.principal_type,
    )


def _lookup(graph: GraphClient, ref: PrincipalRef, principal_type: str) -> list[GraphPrincipal]:
    if ref.object_id is not None:
        one = graph.by_object_id(ref.object_id.lower(), principal_type)
        return [one] if one else []
    if ref.app_id is not None:
        return graph.search("appId", ref.app_id, "ServicePrincipal")
    return graph.search("displayName", ref.display_name or "", principal_type)


def _of_another_type(
    graph: GraphClient, ref: PrincipalRef, principal_type: str
) -> list[GraphPrincipal]:
    """Where a principal not found as the declared type is, so the plan can say "the
    directory says it is a User" instead of "no principal". Best effort: an identity
    allowed to read service principals only may not read users or groups."""
    if ref.app_id is not None:
        return []  # an appId names a service principal, whatever the spec says
    for other in COLLECTIONS:
        if other == principal_type:
            continue
        try:
            found = _lookup(graph, ref, other)
        except AcrReconcileError:
            continue
        if found:
            return found
    return []


def name_unknown(
    graph: GraphClient, object_ids: Iterable[str]
) -> tuple[dict[str, LivePrincipal], bool]:
    """Display name and type of each object id, in one batched Graph read, and whether that
    read was answered. Best effort: the names only label a plan's changes (a prune), so a
    failed read (no Graph permission, Graph down) leaves them unnamed, not the plan; the
    flag lets the label say "directory not readable" instead of "not found"."""
    wanted = sorted({oid.lower() for oid in object_ids})
    if not wanted:
        return {}, True
    try:
        found = graph.by_object_ids(wanted)
    except AcrReconcileError:
        return {}, False
    return {p.object_id: _live(p) for p in found if p.object_id in wanted}, True


def resolve(graph: GraphClient, ref: PrincipalRef, principal_type: str) -> PrincipalResolution:
    """Look one reference up: objectId directly, appId and displayName by filter; when the
    declared type has none, the other types too (the planner reports the contradiction)."""
    matches = _lookup(graph, ref, principal_type) or _of_another_type(graph, ref, principal_type)
    if not matches:
        return PrincipalResolution(ResolutionStatus.NOT_FOUND)
    if len(matches) > 1:
        candidates = tuple(_live(m) for m in matches)
        return PrincipalResolution(ResolutionStatus.AMBIGUOUS, candidates=candidates)
    return PrincipalResolution(ResolutionStatus.FOUND, principal=_live(matches[0]))
