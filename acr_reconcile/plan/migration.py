"""A registry moving from Docker Content Trust to Notary Project (Notation) signatures.

A document is a migration when the registry's live trust policy is enabled and the
document says ``contentTrust: disabled`` together with a ``notation`` block. Disabling
trust deletes every DCT signature for good, so the plan first reads the DCT inventory
(every tag with valid trust data in every delegation, live/dct.py) and may disable trust
only after a Notation signature is planned for every digest DCT signs (also those of tags
the document does not list: nothing DCT vouched for is left unsigned), and the disable
depends on each of them through one verification step (apply checks every carried
signature against the signing certificate, and the disable runs only after it passed);
AcrImageSigner assignments the document prunes go after it.

A rerun continues: while trust is enabled it reads DCT again; once trust is disabled (a
run that ended after the disable, or one whose carried signatures were lost), it reads
the inventory file the migration wrote and signs what is still missing from there. The
carried digests' signatures are read whether or not the document lists their tags.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from acr_reconcile.live.dct import DctInventory, ProblemKind, dct_inventory
from acr_reconcile.live.reader import continues_migration, migrates_from_dct
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
    SignatureVerificationParams,
    TrustPolicyParams,
)
from acr_reconcile.spec.roles import BUILTIN_ROLES

MAX_LISTED = 20  # tags named in one finding; the inventory file lists them all


def is_migration(ctx: DocumentContext) -> bool:
    """Trust is still enabled and the document moves it to Notation."""
    return migrates_from_dct(ctx.doc, ctx.data)


def is_continuation(ctx: DocumentContext) -> bool:
    """Trust is disabled and the migration's inventory file was found: finish from it."""
    return (
        continues_migration(ctx.doc, ctx.data)
        and ctx.data is not None
        and ctx.data.dct_file is not None
    )


def verification_address(subscription_id: str, registry: str) -> str:
    return f"signature-verification:{names.target_key(subscription_id, registry)}"


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
    (unless the document's images already plan one), then the verification of all of
    them, then disabling trust, which depends on it, then AcrImageSigner prunes, which
    depend on the disable. Once trust is disabled, only the missing signatures."""
    if is_continuation(ctx):
        _continue_from_file(ctx)
        return
    if not is_migration(ctx):
        return
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
    _refuse_uncarried_listed(ctx, inventory)
    carried = _carry(ctx, inventory)
    check = _verification(ctx, tuple(carried), len(inventory.digests())) if key else None
    disable = _disable_trust(ctx, tuple(carried), check)
    if ctx.doc.spec.role_assignments.prune:
        _prune_image_signers(ctx)
    for change in list(ctx.changes):
        if _prunes_image_signer(change):
            ctx.changes[ctx.changes.index(change)] = replace(
                change, depends_on=(*change.depends_on, disable)
            )


def _carry(ctx: DocumentContext, inventory: DctInventory) -> list[str]:
    """The addresses of the signatures still to make, one per carried digest."""
    return [
        address
        for (repo, digest), tags in sorted(inventory.digests().items())
        if (address := _signature(ctx, repo, digest, tags, inventory)) is not None
    ]


def _continue_from_file(ctx: DocumentContext) -> None:
    """Trust is disabled already: sign, from the inventory file, every carried digest the
    registry still has that lacks a trusted signature; report the ones it lost."""
    assert ctx.data is not None and ctx.data.dct_file is not None
    evidence = ctx.data.dct_file
    inventory = evidence.inventory
    rid = ctx.registry_id
    gone = sorted(k for k, media in evidence.media_types.items() if media is None)
    for repository, digest in gone:
        ctx.warn(
            rid,
            f"{evidence.path}: {repository}@{digest}, which DCT signed, is no longer in the "
            "registry; nothing to carry over for it",
            "notation",
            "dct-carried-gone",
        )
    kept = DctInventory(
        inventory.registry,
        inventory.login_server,
        inventory.read_at,
        tuple(e for e in inventory.entries if (e.repository, e.digest) not in set(gone)),
        inventory.problems,
    )
    carried = _carry(ctx, kept)
    digests = len(kept.digests())
    if carried:
        ctx.warn(
            rid,
            f"content trust is disabled; continuing the migration from {evidence.path}: "
            f"{_count(len(carried), 'digest')} of {digests} DCT signed still need a "
            "Notation signature",
            "notation",
            "dct-migration-continues",
        )
    else:
        ctx.note(
            rid,
            f"migrated from Docker Content Trust ({evidence.path}): each of the "
            f"{_count(digests, 'digest')} DCT signed carries a trusted Notation signature",
            "notation",
            "dct-migration-complete",
        )


def _signs_tag(change: Change, repository: str, tag: str) -> bool:
    params = change.params
    return (
        isinstance(params, NotationSignatureParams)
        and change.action is Action.CREATE
        and (params.repository, params.tag) == (repository, tag)
    )


def _refuse_uncarried_listed(ctx: DocumentContext, inventory: DctInventory) -> None:
    """A tag the document signs whose DCT signature is not carried (it moved since, or its
    repository's trust data is invalid) would have Notation vouch for a manifest DCT did
    not: the migration refuses it rather than launder it; the owner decides after."""
    bad = {(p.repository, p.tag): p for p in inventory.problems if p.kind is ProblemKind.MOVED}
    invalid = {p.repository: p for p in inventory.problems if p.kind is ProblemKind.INVALID}
    for index, image in enumerate(ctx.doc.spec.images):
        if not image.sign:
            continue
        for tag in image.tags:
            problem = bad.get((image.repository, tag)) or invalid.get(image.repository)
            if problem is None:
                continue
            ctx.changes[:] = [c for c in ctx.changes if not _signs_tag(c, image.repository, tag)]
            ctx.error(
                f"{ctx.login_server}/{image.repository}:{tag}",
                f"{problem.message}; the document signs this tag, which would make Notation "
                "vouch for a manifest DCT did not sign: set sign: false for it during the "
                "migration, and sign it once you have checked the manifest",
                f"images.{index}.sign",
                "dct-uncarried-tag-signed",
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
        _carried_in_sync(ctx, repository, digest, tags)
        return None
    notation = ctx.doc.spec.notation
    assert notation is not None and notation.signing_key is not None
    key = notation.signing_key
    vault, files = key.key_vault, key.file
    size = next(
        e.size for e in inventory.entries if (e.repository, e.digest) == (repository, digest)
    )
    listed = _listed_tags(ctx, repository)
    shown = ", ".join(t if t in listed else f"{t} (not in the document)" for t in tags)
    address = _carried_address(ctx, repository, tags)
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
            params=_carried_params(
                ctx,
                repository,
                digest,
                tags,
                size=size,
                signature_format=notation.signature_format.value,
                key_source="key-vault" if vault is not None else "file",
                subject=vault.subject if vault is not None else None,
                referrers_api=not registry.encryption_enabled if registry else None,
                key_vault=vault.name if vault is not None else None,
                certificate=vault.certificate if vault is not None else None,
                key_file=_key_path(ctx, files.key) if files is not None else None,
                certificate_file=_key_path(ctx, files.certificate) if files is not None else None,
            ),
            target=ctx.target,
        )
    )
    return address


def _key_path(ctx: DocumentContext, path: str | Path) -> str:
    """Key files resolve against the spec's directory, as for the document's own tags."""
    return str(Path(ctx.doc.file).parent / path)


def _carried_in_sync(
    ctx: DocumentContext, repository: str, digest: str, tags: tuple[str, ...]
) -> None:
    """A carried digest that is signed already: a no-op, so the plan shows it (the
    document's own tag on it shows its own)."""
    listed = _listed_tags(ctx, repository)
    if listed & set(tags):
        return
    address = _carried_address(ctx, repository, tags)
    if any(c.address == address for c in ctx.changes):
        return
    state = {"digest": digest, "signed": True, "from": "docker-content-trust"}
    ctx.add(
        Change(
            address=address,
            kind=Kind.NOTATION_SIGNATURE,
            action=Action.NOOP,
            reason=Reason.IN_SYNC,
            resource_id=ctx.registry_id,
            summary=(
                f"Notation signature of {repository}@{digest[:19]}… carried over from DCT "
                f"(tags {', '.join(tags)}, not in the document): trusted"
            ),
            before=state,
            after=state,
            spec_location=ctx.where("notation"),
            params=_carried_params(
                ctx,
                repository,
                digest,
                tags,
                size=None,
                signature_format=ctx.doc.spec.notation.signature_format.value
                if ctx.doc.spec.notation
                else "cose",
                key_source="none",
                subject=None,
                referrers_api=ctx.data.referrers_api if ctx.data else None,
            ),
            target=ctx.target,
        )
    )


def _listed_tags(ctx: DocumentContext, repository: str) -> set[str]:
    """The tags of ``repository`` the document itself declares."""
    return {t for i in ctx.doc.spec.images if i.repository == repository for t in i.tags}


def _carried_address(ctx: DocumentContext, repository: str, tags: tuple[str, ...]) -> str:
    """A carried digest's signature is addressed by its first DCT tag."""
    return names.image_address(
        Kind.NOTATION_SIGNATURE.value, ctx.subscription, ctx.registry_name, repository, tags[0]
    )


def _carried_params(
    ctx: DocumentContext, repository: str, digest: str, tags: tuple[str, ...], **key: Any
) -> NotationSignatureParams:
    """The signature of a carried digest: named by its first DCT tag; ``key`` says how it
    is (or was) signed."""
    return NotationSignatureParams(
        subscription_id=ctx.subscription,
        resource_group=ctx.resource_group,
        registry=ctx.registry_name,
        login_server=ctx.login_server,
        repository=repository,
        tag=tags[0],
        digest=digest,
        media_type=_media_type(ctx, repository, digest),
        **key,
    )


def _media_type(ctx: DocumentContext, repository: str, digest: str) -> str | None:
    if ctx.data is None:
        return None
    if ctx.data.dct is not None:
        return ctx.data.dct.media_types.get((repository, digest))
    if ctx.data.dct_file is not None:
        return ctx.data.dct_file.media_types.get((repository, digest))
    return None


def _already_signed(ctx: DocumentContext, repository: str, digest: str) -> bool:
    """A trusted Notation signature of the digest, read for it (every carried digest is,
    listed in the document or not) or for a document tag on it, means it is carried."""
    data = ctx.data
    if data is None:
        return False
    found = data.carried.get((repository, digest), ())
    found += tuple(
        s
        for t in data.tags.values()
        if (t.repository, t.digest) == (repository, digest)
        for s in t.signatures
    )
    return any(s.verdict is SignatureVerdict.TRUSTED for s in found)


def _signing_key_changes(ctx: DocumentContext) -> list[str]:
    """The vault, certificate and the running identity's Key Vault role changes of this
    plan: verifying reads the certificate, with those roles."""
    return [c.address for c in ctx.changes if c.is_change and _reads_certificate_with(c)]


def _reads_certificate_with(change: Change) -> bool:
    if change.kind in (Kind.KEY_VAULT, Kind.SIGNING_CERTIFICATE):
        return True
    params = change.params
    return isinstance(params, RoleAssignmentParams) and params.for_caller


def _verification(ctx: DocumentContext, carried: tuple[str, ...], digests: int) -> str:
    """The check between the signatures and the disable: apply verifies every digest of
    the inventory it wrote against the signing certificate, and the disable needs it."""
    notation = ctx.doc.spec.notation
    assert notation is not None and notation.signing_key is not None
    vault, files = notation.signing_key.key_vault, notation.signing_key.file
    address = verification_address(ctx.subscription, ctx.registry_name)
    after = {"digests": digests, "verified": True}
    ctx.add(
        Change(
            address=address,
            kind=Kind.SIGNATURE_VERIFICATION,
            action=Action.UPDATE,
            reason=Reason.SPEC_CHANGED,
            resource_id=ctx.registry_id,
            summary=(
                f"verify that each of the {_count(digests, 'digest')} DCT signs carries a "
                "trusted Notation signature, before content trust is disabled"
            ),
            before={"digests": digests, "verified": False},
            after=after,
            diff=attribute_diff({"verified": False}, {"verified": True}),
            depends_on=(
                names.registry_address(ctx.subscription, ctx.registry_name),
                *_signing_key_changes(ctx),
                *carried,
            ),
            spec_location=ctx.where("notation"),
            params=SignatureVerificationParams(
                subscription_id=ctx.subscription,
                resource_group=ctx.resource_group,
                registry=ctx.registry_name,
                login_server=ctx.login_server or "",
                digests=digests,
                key_source="key-vault" if vault is not None else "file",
                subject=vault.subject if vault is not None else None,
                key_vault=vault.name if vault is not None else None,
                certificate=vault.certificate if vault is not None else None,
                certificate_file=_key_path(ctx, files.certificate) if files is not None else None,
                wait_for_roles=any(
                    isinstance(c.params, RoleAssignmentParams) and c.params.for_caller
                    for c in ctx.changes
                    if c.is_change
                ),
            ),
            target=ctx.target,
        )
    )
    return address


def _disable_trust(ctx: DocumentContext, carried: tuple[str, ...], check: str | None) -> str:
    """Disabling trust: destructive, and only after every carried signature verified."""
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
            depends_on=(
                names.registry_address(spec.subscription_id, spec.registry.name),
                *carried,
                *((check,) if check else ()),
            ),
            spec_location=ctx.where("registry.contentTrust"),
            params=TrustPolicyParams(
                subscription_id=ctx.subscription,
                resource_group=ctx.resource_group,
                registry=ctx.registry_name,
                status="disabled",
                destructive=True,
                migration=True,
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
