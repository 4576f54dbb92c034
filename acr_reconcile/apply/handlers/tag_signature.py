"""Tag signatures: one trust publish per repository (GUN) with all of its tags.

Each publish bumps the repository's TUF metadata versions, so N tags signed one at a time
would be N round trips and N snapshot versions; grouped, it is one. A publish the trust
server throttled or failed is re-run (it re-reads, so nothing is signed twice).
"""

from __future__ import annotations

from collections.abc import Sequence

from acr_reconcile.apply import retry
from acr_reconcile.apply.context import ApplyContext
from acr_reconcile.errors import ConfigError
from acr_reconcile.plan.model import Change, TagSignatureParams


def group_key(change: Change) -> str:
    """Changes of one repository of one registry share a key."""
    return f"{change.target}|{change.params_as(TagSignatureParams).repository}"


def apply(changes: Sequence[Change], ctx: ApplyContext) -> str:
    if ctx.publish_signatures is None:
        raise ConfigError(
            f"{changes[0].address}: signing is not available in this build; "
            "the signature changes were not applied"
        )
    publish = ctx.publish_signatures
    doing = "publishing the signatures"
    return retry.call(lambda: publish(changes), changes[0].resource_id, doing, ctx.retry)
