"""A registry moving from Docker Content Trust to Notary Project (Notation) signatures.

A document is a migration when the registry's live trust policy is enabled and the
document says ``contentTrust: disabled`` together with a ``notation`` block. Disabling
trust deletes every DCT signature for good, so the plan first reads the DCT inventory
(every tag with valid trust data in every delegation, live/dct.py) and may disable trust
only after a Notation signature is planned for every digest DCT signs, and depends on
each of them. Until the planner can plan Notation signatures, a migration keeps trust
enabled and says why: never is anything DCT vouched for left unsigned.
"""

from __future__ import annotations

from acr_reconcile.live.dct import DctInventory, dct_inventory
from acr_reconcile.live.reader import migrates_from_dct
from acr_reconcile.plan.context import DocumentContext

MAX_LISTED = 20  # tags named in one finding; the inventory file lists them all


def is_migration(ctx: DocumentContext) -> bool:
    return migrates_from_dct(ctx.doc, ctx.data)


def migration_inventory(ctx: DocumentContext) -> DctInventory | None:
    """The inventory, with its findings: what DCT vouches for, what the document does not
    list, and trust data never carried over. None when it could not be read."""
    reading = ctx.data.dct if ctx.data else None
    rid = ctx.registry_id
    if reading is None:
        ctx.error(
            rid,
            "this document migrates the registry from Docker Content Trust to Notation, but "
            "the registry's DCT inventory was not read; nothing is planned for its trust",
            "registry.contentTrust",
            "dct-inventory-unread",
        )
        return None
    inventory = dct_inventory(reading)
    listed = {(i.repository, t) for i in ctx.doc.spec.images for t in i.tags}
    carried = {(e.repository, e.tag) for e in inventory.entries}
    unlisted = sorted(carried - listed)
    digests = len(inventory.digests())
    repositories = len({e.repository for e in inventory.entries})
    message = (
        f"migration from Docker Content Trust to Notation: DCT signs "
        f"{_count(len(carried), 'tag')} ({_count(digests, 'digest')} in "
        f"{_count(repositories, 'repository', 'repositories')}); each digest needs a "
        "Notation signature before trust is disabled"
    )
    if unlisted:
        names = ", ".join(f"{r}:{t}" for r, t in unlisted[:MAX_LISTED])
        more = f" and {len(unlisted) - MAX_LISTED} more" if len(unlisted) > MAX_LISTED else ""
        message += f"; signed although the document does not list them: {names}{more}"
    ctx.warn(rid, message, "registry.contentTrust", "dct-migration")
    for problem in inventory.problems:
        ctx.warn(rid, problem.message, "registry.contentTrust", f"dct-{problem.kind.value}")
    return inventory


def guard_trust_disable(ctx: DocumentContext, inventory: DctInventory | None) -> bool:
    """Whether a migration may plan disabling trust: only once every DCT-signed digest
    has a planned Notation signature. Notation signatures are not planned yet, so a
    migration with anything to carry keeps trust enabled, with an error saying so."""
    if inventory is None:
        return False
    if not inventory.entries:
        return True  # DCT vouches for nothing valid: disabling it loses nothing trusted
    ctx.error(
        ctx.registry_id,
        "content trust stays enabled: disabling it would delete the DCT signatures of "
        f"{_count(len(inventory.digests()), 'digest')}, and Notation signatures for them cannot be "
        "planned yet; see docs/migrating-from-dct.md",
        "registry.contentTrust",
        "dct-migration-not-planned",
    )
    return False


def _count(number: int, one: str, many: str | None = None) -> str:
    return f"{number} {one if number == 1 else many or one + 's'}"
