"""One handler per resource kind; ``runner(ctx)`` dispatches a unit of changes to it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from acr_reconcile.apply.context import ApplyContext
from acr_reconcile.apply.handlers import (
    image_import,
    key_vault,
    notation_signature,
    registry,
    resource_group,
    role_assignment,
    signature_verification,
    signing_certificate,
    tag_signature,
    trust_policy,
)
from acr_reconcile.plan.model import Change, Kind

Handler = Callable[[Sequence[Change], ApplyContext], str]

HANDLERS: dict[Kind, Handler] = {
    Kind.RESOURCE_GROUP: resource_group.apply,
    Kind.REGISTRY: registry.apply,
    Kind.TRUST_POLICY: trust_policy.apply,
    Kind.KEY_VAULT: key_vault.apply,
    Kind.ROLE_ASSIGNMENT: role_assignment.apply,
    Kind.SIGNING_CERTIFICATE: signing_certificate.apply,
    Kind.IMAGE_IMPORT: image_import.apply,
    Kind.TAG_SIGNATURE: tag_signature.apply,
    Kind.NOTATION_SIGNATURE: notation_signature.apply,
    Kind.SIGNATURE_VERIFICATION: signature_verification.apply,
}


def group_key(change: Change) -> str | None:
    """DCT signature changes of one repository run as one unit, Notation signature
    changes of one registry too; everything else alone."""
    if change.kind is Kind.TAG_SIGNATURE:
        return tag_signature.group_key(change)
    if change.kind is Kind.NOTATION_SIGNATURE:
        return notation_signature.group_key(change)
    return None


def runner(ctx: ApplyContext) -> Callable[[Sequence[Change]], str]:
    def run(unit: Sequence[Change]) -> str:
        return HANDLERS[unit[0].kind](unit, ctx)

    return run
