"""Principal references of the specs resolved in Microsoft Graph, once per distinct reference.

An unknown principal or an ambiguous display name must surface as a plan-time error, not
as a role assignment that ARM retries for half an hour; so every reference is looked up
before planning and its resolution (found, not found, ambiguous) goes into LiveState.
"""

from __future__ import annotations

from collections.abc import Iterable

from acr_reconcile.azure.graph import GraphClient, GraphPrincipal
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


def resolve(graph: GraphClient, ref: PrincipalRef, principal_type: str) -> PrincipalResolution:
    """Look one reference up: objectId directly, appId and displayName by filter."""
    if ref.object_id is not None:
        one = graph.by_object_id(ref.object_id.lower(), principal_type)
        matches = [one] if one else []
    elif ref.app_id is not None:
        matches = graph.search("appId", ref.app_id, "ServicePrincipal")
    else:
        matches = graph.search("displayName", ref.display_name or "", principal_type)
    if not matches:
        return PrincipalResolution(ResolutionStatus.NOT_FOUND)
    if len(matches) > 1:
        candidates = tuple(_live(m) for m in matches)
        return PrincipalResolution(ResolutionStatus.AMBIGUOUS, candidates=candidates)
    return PrincipalResolution(ResolutionStatus.FOUND, principal=_live(matches[0]))
