"""Tags as reconciled state: import what is missing, keep signatures matching the registry.

A tag absent from the registry is imported from its ``source`` (ARM importImage) and then
signed; the digest it will have is known only after the import, so such a signature
carries ``digest: null`` for the executor to resolve, unless a ``digest`` pin gives it.
A ``sign: false`` tag that carries trust data is drift, and removing the signature is a
planned change. Trust data that fails verification is an error, never "unsigned".
"""

from __future__ import annotations

from typing import Any

from acr_reconcile.live.state import LiveRepositoryTrust, LiveTag, TagTrust
from acr_reconcile.plan import names
from acr_reconcile.plan.context import DocumentContext
from acr_reconcile.plan.diffing import attribute_diff
from acr_reconcile.plan.model import (
    Action,
    Change,
    ImageImportParams,
    Kind,
    Reason,
    TagSignatureParams,
)
from acr_reconcile.plan.notation_signatures import NotationTags, plan_notation_signatures
from acr_reconcile.spec.models import ImageSpec, TrustStatus
from acr_reconcile.spec.reference import parse_image_source

_CARRIES_TRUST = {TagTrust.SIGNED, TagTrust.STALE}


def _image_ref(ctx: DocumentContext, repo: str, tag: str) -> str:
    host = ctx.login_server or ctx.registry_name
    return f"{host}/{repo}:{tag}"


def _live_tag(ctx: DocumentContext, repo: str, tag: str) -> LiveTag | None:
    if ctx.data is None:
        return None
    live = ctx.data.tags.get((repo, tag))
    return live if live is not None and live.digest is not None else None


def _repository(ctx: DocumentContext, repo: str) -> LiveRepositoryTrust | None:
    return ctx.data.repositories.get(repo) if ctx.data else None


def _import(ctx: DocumentContext, image: ImageSpec, tag: str, path: str) -> Change | None:
    if image.source is None:
        ctx.error(
            _image_ref(ctx, image.repository, tag),
            "tag missing and no source to import it from; push it, or add images[].source",
            path,
            "tag-missing-no-source",
        )
        return None
    parsed = parse_image_source(image.source)
    after = {"source": image.source, "digest": image.digest}
    return ctx.add(
        Change(
            address=names.image_address(
                "image-import", ctx.subscription, ctx.registry_name, image.repository, tag
            ),
            kind=Kind.IMAGE_IMPORT,
            action=Action.CREATE,
            reason=ctx.absent_reason(),
            resource_id=_image_ref(ctx, image.repository, tag),
            summary=f"import {image.repository}:{tag} from {image.source}",
            after=after,
            diff=attribute_diff(None, after),
            depends_on=(names.registry_address(ctx.subscription, ctx.registry_name),),
            spec_location=ctx.where(path),
            params=ImageImportParams(
                subscription_id=ctx.subscription,
                resource_group=ctx.resource_group,
                registry=ctx.registry_name,
                login_server=ctx.login_server,
                repository=image.repository,
                tag=tag,
                source=image.source,
                source_registry=parsed.registry,
                source_image=parsed.image,
                target_tag=f"{image.repository}:{tag}",
                mode="NoForce",
                digest=image.digest,
            ),
            target=ctx.target,
        )
    )


def _trust_broken(
    ctx: DocumentContext,
    repo: LiveRepositoryTrust | None,
    live: LiveTag | None,
    ref: str,
    path: str,
) -> bool:
    if (repo is not None and repo.exists and not repo.valid) or (
        live is not None and live.trust is TagTrust.INVALID
    ):
        why = (repo.error if repo else None) or "verification failed"
        ctx.error(
            ref,
            f"trust data of {repo.gun if repo else ref} is invalid: {why}; investigate before "
            "signing (it may have been tampered with)",
            path,
            "trust-data-invalid",
        )
        return True
    return False


def _signature_action(image: ImageSpec, live: LiveTag | None) -> tuple[Action, str]:
    """What to do with the tag's signature, and its trust state for display."""
    if live is None:
        return (Action.CREATE if image.sign else Action.NOOP), "absent"
    if image.sign:
        action = {TagTrust.SIGNED: Action.NOOP, TagTrust.STALE: Action.UPDATE}
        return action.get(live.trust, Action.CREATE), live.trust.value
    return (Action.DELETE if live.trust in _CARRIES_TRUST else Action.NOOP), live.trust.value


def _signature_params(
    ctx: DocumentContext, image: ImageSpec, tag: str, live: LiveTag | None
) -> TagSignatureParams:
    repo = _repository(ctx, image.repository)
    signable = repo.signable_roles if repo else ()
    gun = (
        repo.gun
        if repo
        else (f"{ctx.login_server}/{image.repository}" if ctx.login_server else None)
    )
    return TagSignatureParams(
        subscription_id=ctx.subscription,
        resource_group=ctx.resource_group,
        registry=ctx.registry_name,
        login_server=ctx.login_server,
        repository=image.repository,
        tag=tag,
        gun=gun,
        digest=live.digest if live else image.digest,
        size=live.size if live else None,
        role="targets/releases" if "targets/releases" in signable else "targets",
        initialize=repo is None or not repo.exists,
    )


def _states(
    action: Action, state: str, live: LiveTag | None, params: TagSignatureParams
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Before/after of a signature: what the trust data says, and what it will say."""
    if action is Action.NOOP:
        same = {"trust": state, "digest": live.digest if live else None}
        return same, same
    before = None
    if live is not None and live.trust in _CARRIES_TRUST:
        before = {"trust": state, "digest": live.signed_digest, "size": live.signed_size}
    if action is Action.DELETE:
        return before, None
    return before, {"trust": "signed", "digest": params.digest, "size": params.size}


def _depends(ctx: DocumentContext, imported: Change | None) -> tuple[str, ...]:
    """Signing needs the tag, trust enabled, and the signer roles in place."""
    depends = [imported.address] if imported else []
    depends.append(names.trust_policy_address(ctx.subscription, ctx.registry_name))
    depends += [c.address for c in ctx.changes if c.kind is Kind.ROLE_ASSIGNMENT and c.is_change]
    return tuple(depends)


def _signature(
    ctx: DocumentContext, image: ImageSpec, tag: str, path: str, imported: Change | None
) -> None:
    live = _live_tag(ctx, image.repository, tag)
    ref = _image_ref(ctx, image.repository, tag)
    if _trust_broken(ctx, _repository(ctx, image.repository), live, ref, path):
        return
    action, state = _signature_action(image, live)
    reason = {
        Action.NOOP: Reason.IN_SYNC,
        Action.CREATE: ctx.absent_reason(),
        Action.UPDATE: ctx.changed_reason(),
        Action.DELETE: ctx.changed_reason(),
    }[action]
    params = _signature_params(ctx, image, tag, live)
    before, after = _states(action, state, live, params)
    verb = {Action.DELETE: "remove signature of", Action.NOOP: "tag"}.get(action, "sign")
    digest = params.digest or "digest known after import"
    ctx.add(
        Change(
            address=names.image_address(
                "tag-signature", ctx.subscription, ctx.registry_name, image.repository, tag
            ),
            kind=Kind.TAG_SIGNATURE,
            action=action,
            reason=reason,
            resource_id=ref,
            summary=f"{verb} {image.repository}:{tag} ({state}, {digest})",
            before=before,
            after=after,
            diff=attribute_diff(before, after) if action is not Action.NOOP else (),
            depends_on=_depends(ctx, imported),
            spec_location=ctx.where(path),
            params=params,
            target=ctx.target,
        )
    )


def _plan_tag(
    ctx: DocumentContext, index: int, image: ImageSpec, j: int, tag: str, notation: NotationTags
) -> None:
    path = f"images.{index}.tags.{j}"
    live = _live_tag(ctx, image.repository, tag)
    imported = None
    if live is None:
        imported = _import(ctx, image, tag, path)
        if imported is None:
            return
    elif image.digest is not None and image.digest != live.digest:
        ctx.error(
            _image_ref(ctx, image.repository, tag),
            f"tag points to {live.digest} in the registry, the spec pins {image.digest}; "
            "push or import the pinned image, or update the pin",
            f"images.{index}.digest",
            "digest-pin-mismatch",
        )
        return
    if ctx.doc.spec.notation is not None:
        notation.entries.append((index, image, tag, live, imported))
    if ctx.doc.spec.registry.content_trust is not TrustStatus.ENABLED:
        return  # validate refuses sign: true without DCT or notation
    _signature(ctx, image, tag, path, imported)


def _shared_digests(ctx: DocumentContext) -> None:
    """Notation signs digests, not tags: a signature for the manifest of a ``sign: true``
    tag also signs every other tag on that manifest, so a ``sign: false`` tag there can
    never stay unsigned. The digest is the registry's, or the pin of a tag to import."""
    needed: dict[tuple[str, str], str] = {}
    unsigned: list[tuple[str, str, str, int]] = []
    for index, image in enumerate(ctx.doc.spec.images):
        for tag in image.tags:
            live = _live_tag(ctx, image.repository, tag)
            digest = live.digest if live is not None else image.digest
            if digest is None:
                continue
            if image.sign:
                needed.setdefault((image.repository, digest), tag)
            else:
                unsigned.append((image.repository, tag, digest, index))
    for repository, tag, digest, index in unsigned:
        signed_tag = needed.get((repository, digest))
        if signed_tag is None:
            continue
        ctx.error(
            _image_ref(ctx, repository, tag),
            f"points to {digest}, the manifest {repository}:{signed_tag} must have signed; "
            "Notary Project signatures are made for digests, so this tag would be signed "
            "too: set sign: true, or point the tag at another manifest",
            f"images.{index}.sign",
            "notation-digest-shared",
        )


def plan_images(ctx: DocumentContext) -> None:
    notation = NotationTags()
    for index, image in enumerate(ctx.doc.spec.images):
        repo = _repository(ctx, image.repository)
        for warning in repo.warnings if repo else ():
            ctx.warn(repo.gun if repo else image.repository, warning, f"images.{index}", "trust")
        for j, tag in enumerate(image.tags):
            _plan_tag(ctx, index, image, j, tag, notation)
    if ctx.doc.spec.notation is not None:
        errors = len(ctx.diagnostics)
        _shared_digests(ctx)
        if len(ctx.diagnostics) == errors:
            plan_notation_signatures(ctx, notation)


def check_signing(ctx: DocumentContext) -> None:
    """Signing readiness: keys and passphrases are needed by apply only, before it starts
    rather than halfway through it. A plan never needs them (a read-only job holds no
    signing secrets), so each gap is a warning here that apply enforces."""
    readiness = ctx.live.signing
    pending = [c for c in ctx.changes if c.kind is Kind.TAG_SIGNATURE and c.is_change]
    if readiness is None or not pending:
        return
    signing = [c.params_as(TagSignatureParams) for c in pending]
    needs_root = sorted({p.repository for p in signing if p.initialize})
    missing: list[str] = []
    if not readiness.interactive and not readiness.repository_passphrase_available:
        missing.append("the repository key passphrase (DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE)")
    if needs_root and not readiness.interactive and not readiness.root_passphrase_available:
        missing.append(
            "the root key passphrase (DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE) to initialise "
            + ", ".join(needs_root)
        )
    if needs_root and readiness.root_key_warning:
        ctx.warn(ctx.registry_id, readiness.root_key_warning, "images", "root-key-unencrypted")
    unusable: list[str] = []
    if needs_root and readiness.root_key_problem:
        unusable.append(readiness.root_key_problem)
    for repo_name in sorted({p.repository for p in signing}):
        repo = _repository(ctx, repo_name)
        if repo is not None and repo.exists and not repo.signable_roles:
            missing.append(f"a signing key for {repo.gun} in {readiness.trust_dir}")
        if repo is not None and repo.key_problem:
            unusable.append(repo.key_problem)
    if missing:
        ctx.apply_needs(
            ctx.registry_id,
            "signing is planned and this run lacks "
            + "; ".join(missing)
            + "; apply needs it before its first write (plan does not)",
            "images",
            "signing-keys-missing",
        )
    if unusable:
        ctx.apply_needs(
            ctx.registry_id,
            "signing is planned and a key does not open: "
            + "; ".join(unusable)
            + "; apply needs it before its first write (plan does not)",
            "images",
            "signing-key-unusable",
        )
