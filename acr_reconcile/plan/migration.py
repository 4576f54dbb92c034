"""A registry moving from Docker Content Trust to Notary Project (Notation) signatures.

A document is a migration when the registry's live trust policy is enabled and the
document says ``contentTrust: disabled`` together with a ``notation`` block. Disabling
trust deletes every DCT signature for good, so the plan first reads the DCT inventory
(every tag with valid trust data in every delegation, live/dct.py) and may disable trust
only after a Notation signature is planned for every digest DCT signs (also those of tags
the document does not list: nothing DCT vouched for is left unsigned), and the disable
depends on each of them; AcrImageSigner assignments the document prunes go after it.
"""

from __future__ import annotations

from dataclasses import replace

from acr_reconcile.live.dct import DctInventory, dct_inventory
from acr_reconcile.live.reader import migrates_from_dct
from acr_reconcile.live.state import SignatureVerdict
from acr_reconcile.plan import names, rules
from acr_reconcile.plan.assignments import prune_assignment
from acr_reconcile.plan.context import DocumentContext
from acr_reconcile.plan.diffing import attribute_diff
from acr_reconcile.plan.model import (
    Action,
    Change,
    Kind,
    NotationSignatureParams,
    Reason,
    RoleAssignmentParams,
    TrustPolicyParams,
)
from acr_reconcile.spec.roles import BUILTIN_ROLES

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


def plan_migration(ctx: DocumentContext) -> None:
    """After the document's own changes: a Notation signature for every digest DCT signs
    (unless the document's images already plan one), then disabling trust, which depends
    on every one of them, then AcrImageSigner prunes, which depend on the disable."""
    inventory = migration_inventory(ctx)
    if inventory is None:
        return
    notation = ctx.doc.spec.notation
    key = notation.signing_key if notation is not None else None
    if inventory.entries and key is None:
        ctx.error(
            ctx.registry_id,
            "content trust stays enabled: DCT signs "
            f"{_count(len(inventory.digests()), 'digest')} and the notation block has no "
            "signingKey to carry them over with; add notation.signingKey",
            "notation",
            "dct-migration-no-signing-key",
        )
        return
    carried = [
        address
        for (repo, digest), tags in sorted(inventory.digests().items())
        if (address := _signature(ctx, repo, digest, tags, inventory)) is not None
    ]
    disable = _disable_trust(ctx, tuple(carried))
    if ctx.doc.spec.role_assignments.prune:
        _prune_image_signers(ctx)
    for change in list(ctx.changes):
        if _prunes_image_signer(change):
            ctx.changes[ctx.changes.index(change)] = replace(
                change, depends_on=(*change.depends_on, disable)
            )


def _prune_image_signers(ctx: DocumentContext) -> None:
    """AcrImageSigner serves DCT only: in a migration with prune on it is a managed role,
    so the assignments of it the document does not list are pruned (after the disable),
    even when no signer of the document names the role any more."""
    if ctx.data is None:
        return
    signer = BUILTIN_ROLES["AcrImageSigner"]
    planned = {c.address for c in ctx.changes}
    scope = ctx.registry_id.lower()
    for live in sorted(ctx.data.role_assignments, key=lambda a: (a.principal_id, a.name)):
        if live.scope.lower() != scope or live.role_definition_guid.lower() != signer:
            continue
        address = names.role_assignment_address(live.scope, live.principal_id, signer)
        if address not in planned:
            change = prune_assignment(ctx, live)
            if change is not None:
                ctx.add(change)


def _signature(
    ctx: DocumentContext,
    repository: str,
    digest: str,
    tags: tuple[str, ...],
    inventory: DctInventory,
) -> str | None:
    """The address of the signature of ``digest``: the document's own, or a new one;
    None when a tag read for the document already shows a trusted Notation signature."""
    for change in ctx.changes:
        params = change.params
        if (
            isinstance(params, NotationSignatureParams)
            and change.action is Action.CREATE
            and (params.repository, params.digest) == (repository, digest)
        ):
            return change.address
    if _already_signed(ctx, repository, digest):
        return None
    notation = ctx.doc.spec.notation
    assert notation is not None and notation.signing_key is not None
    key = notation.signing_key
    vault, files = key.key_vault, key.file
    size = next(
        e.size for e in inventory.entries if (e.repository, e.digest) == (repository, digest)
    )
    listed = {t for i in ctx.doc.spec.images if i.repository == repository for t in i.tags}
    shown = ", ".join(t if t in listed else f"{t} (not in the document)" for t in tags)
    address = names.image_address(
        Kind.NOTATION_SIGNATURE.value, ctx.subscription, ctx.registry_name, repository, tags[0]
    )
    depends = [names.registry_address(ctx.subscription, ctx.registry_name)]
    if vault is not None:
        planned = {c.address for c in ctx.changes}
        depends += [
            a
            for a in (
                names.key_vault_address(ctx.subscription, vault.name),
                names.signing_certificate_address(ctx.subscription, vault.name, vault.certificate),
            )
            if a in planned
        ]
    registry = ctx.data.registry if ctx.data else None
    ctx.add(
        Change(
            address=address,
            kind=Kind.NOTATION_SIGNATURE,
            action=Action.CREATE,
            reason=Reason.MISSING,
            resource_id=ctx.registry_id,
            summary=(
                f"Notation signature of {repository}@{digest[:19]}… carried over from DCT "
                f"(tags {shown})"
            ),
            before=None,
            after={"digest": digest, "tags": list(tags), "from": "docker-content-trust"},
            depends_on=tuple(depends),
            spec_location=ctx.where("notation"),
            params=NotationSignatureParams(
                subscription_id=ctx.subscription,
                resource_group=ctx.resource_group,
                registry=ctx.registry_name,
                login_server=ctx.login_server,
                repository=repository,
                tag=tags[0],
                digest=digest,
                size=size,
                media_type=_media_type(ctx, repository, digest),
                signature_format=notation.signature_format.value,
                key_source="key-vault" if vault is not None else "file",
                subject=vault.subject if vault is not None else None,
                referrers_api=not registry.encryption_enabled if registry else None,
                key_vault=vault.name if vault is not None else None,
                certificate=vault.certificate if vault is not None else None,
                key_file=str(files.key) if files is not None else None,
                certificate_file=str(files.certificate) if files is not None else None,
            ),
            target=ctx.target,
        )
    )
    return address


def _media_type(ctx: DocumentContext, repository: str, digest: str) -> str | None:
    reading = ctx.data.dct if ctx.data else None
    return reading.media_types.get((repository, digest)) if reading else None


def _already_signed(ctx: DocumentContext, repository: str, digest: str) -> bool:
    """Only the document's tags have their Notation signatures read; a trusted one on any
    of them for this digest means the digest is carried already (a rerun)."""
    tags = ctx.data.tags.values() if ctx.data else ()
    return any(
        t.repository == repository
        and t.digest == digest
        and any(s.verdict is SignatureVerdict.TRUSTED for s in t.signatures)
        for t in tags
    )


def _disable_trust(ctx: DocumentContext, carried: tuple[str, ...]) -> str:
    """Disabling trust: destructive, and only after every carried signature."""
    spec = ctx.doc.spec
    after_what = (
        f"after the {_count(len(carried), 'Notation signature')} carried over from DCT"
        if carried
        else "nothing DCT signs is left without a Notation signature"
    )
    rules.warn_trust_destruction(ctx)
    before = {"type": "Notary", "status": "enabled"}
    after = {"type": "Notary", "status": "disabled"}
    address = names.trust_policy_address(spec.subscription_id, spec.registry.name)
    ctx.add(
        Change(
            address=address,
            kind=Kind.TRUST_POLICY,
            action=Action.UPDATE,
            reason=ctx.changed_reason(),
            resource_id=ctx.registry_id,
            summary=f"content trust on {spec.registry.name}: disabled, {after_what}",
            before=before,
            after=after,
            diff=attribute_diff(before, after),
            depends_on=(names.registry_address(spec.subscription_id, spec.registry.name), *carried),
            spec_location=ctx.where("registry.contentTrust"),
            params=TrustPolicyParams(
                subscription_id=ctx.subscription,
                resource_group=ctx.resource_group,
                registry=ctx.registry_name,
                status="disabled",
                destructive=True,
            ),
            target=ctx.target,
        )
    )
    return address


def _prunes_image_signer(change: Change) -> bool:
    params = change.params
    return (
        isinstance(params, RoleAssignmentParams)
        and change.action is Action.DELETE
        and params.role_definition_guid == BUILTIN_ROLES["AcrImageSigner"]
    )


def _count(number: int, one: str, many: str | None = None) -> str:
    return f"{number} {one if number == 1 else many or one + 's'}"
