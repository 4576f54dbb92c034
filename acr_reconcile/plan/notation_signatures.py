"""Notary Project signatures as reconciled state, for documents with a ``notation`` block.

Notation signs digests, not tags: one signature of a manifest covers every tag on it, so a
create is planned once per (repository, digest) and names the other tags it covers. The
verdict of each signature found (trusted / untrusted / invalid under the document's trust
policy) was decided by the reader; here it becomes a change:

- ``sign: true`` without a trusted signature: create one (drift when the document was
  applied: a tag pushed over without signing, or a signature whose certificate expired);
- ``sign: false`` with a trusted signature: delete that signature manifest (drift, shown
  as destructive);
- untrusted signatures are left alone unless ``notation.prune: true``;
- an invalid signature next to no trusted one is an error: it may be tampering, and
  signing over it would hide it.

The plan never needs the key: a create names it (Key Vault certificate or PEM files).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from acr_reconcile.live.state import LiveNotationSignature, LiveTag, SignatureVerdict
from acr_reconcile.plan import names
from acr_reconcile.plan.context import DocumentContext
from acr_reconcile.plan.diffing import attribute_diff
from acr_reconcile.plan.model import Action, Change, Kind, NotationSignatureParams, Reason
from acr_reconcile.spec.models import ImageSpec
from acr_reconcile.spec.notation import NotationSpec

KIND = "notation-signature"


@dataclass
class NotationTags:
    """The document's tags in spec order, gathered while imports are planned."""

    entries: list[tuple[int, ImageSpec, str, LiveTag | None, Change | None]] = field(
        default_factory=list
    )


def _ref(ctx: DocumentContext, repo: str, tag: str) -> str:
    return f"{ctx.login_server or ctx.registry_name}/{repo}:{tag}"


def _address(ctx: DocumentContext, repo: str, tag: str, signature: str | None = None) -> str:
    base = names.image_address(KIND, ctx.subscription, ctx.registry_name, repo, tag)
    return f"{base}@{signature}" if signature else base


def _key_fields(ctx: DocumentContext, notation: NotationSpec) -> dict[str, str | None]:
    key = notation.signing_key
    if key is not None and key.key_vault is not None:
        vault = key.key_vault
        return {
            "key_source": "key-vault",
            "subject": vault.subject,
            "key_vault": vault.name,
            "certificate": vault.certificate,
        }
    if key is not None and key.file is not None:
        base = Path(ctx.doc.file).parent
        return {
            "key_source": "file",
            "subject": None,
            "key_file": str(base / key.file.key),
            "certificate_file": str(base / key.file.certificate),
        }
    return {"key_source": "none", "subject": None}


def _params(
    ctx: DocumentContext,
    repo: str,
    tag: str,
    live: LiveTag | None,
    image: ImageSpec,
    key: dict[str, str | None],
    signature_format: str,
    signature: str | None = None,
) -> NotationSignatureParams:
    return NotationSignatureParams(
        subscription_id=ctx.subscription,
        resource_group=ctx.resource_group,
        registry=ctx.registry_name,
        login_server=ctx.login_server,
        repository=repo,
        tag=tag,
        digest=live.digest if live else image.digest,
        size=live.size if live else None,
        media_type=live.media_type if live else None,
        signature_format=signature_format,
        referrers_api=ctx.data.referrers_api if ctx.data else None,
        signature_digest=signature,
        **key,  # type: ignore[arg-type]
    )


def _key_depends(ctx: DocumentContext) -> tuple[str, ...]:
    """The signing certificate's, its vault's and the roles' pending changes, read once
    before the signatures are planned: those add only signature changes, and scanning
    every change again for each of 10,000 tags made planning quadratic."""
    kinds = {Kind.ROLE_ASSIGNMENT, Kind.KEY_VAULT, Kind.SIGNING_CERTIFICATE}
    return tuple(c.address for c in ctx.changes if c.kind in kinds and c.is_change)


def _signing_depends(
    ctx: DocumentContext, imported: Change | None, key_depends: tuple[str, ...]
) -> tuple[str, ...]:
    """Signing needs the tag, the signing certificate and the roles in place."""
    depends = [imported.address] if imported else []
    depends.append(names.registry_address(ctx.subscription, ctx.registry_name))
    return (*depends, *key_depends)


def _short(digest: str | None) -> str:
    return digest[:19] + "…" if digest else "digest known after import"


def _create(
    ctx: DocumentContext,
    index: int,
    image: ImageSpec,
    tag: str,
    live: LiveTag | None,
    imported: Change | None,
    also: list[str],
    why: str | None,
    key_depends: tuple[str, ...],
) -> None:
    notation = ctx.doc.spec.notation
    assert notation is not None
    key = _key_fields(ctx, notation)
    if key["key_source"] == "none":
        ctx.error(
            _ref(ctx, image.repository, tag),
            "sign: true needs a signing key: add notation.signingKey (keyVault or file), "
            "or set sign: false",
            f"images.{index}.sign",
            "notation-no-signing-key",
        )
        return
    fmt = notation.signature_format.value
    params = _params(ctx, image.repository, tag, live, image, key, fmt)
    signer = key["subject"] or f"key file {Path(key['certificate_file'] or '').name}"
    covers = f"; also signs {', '.join(also)}" if also else ""
    before = None
    if live is not None and live.signatures:
        before = {"signatures": [s.verdict.value for s in live.signatures]}
    after = {"digest": params.digest, "format": fmt, "signer": signer}
    reason = ctx.changed_reason() if why else ctx.absent_reason()
    detail = f"; {why}" if why else ""
    ctx.add(
        Change(
            address=_address(ctx, image.repository, tag),
            kind=Kind.NOTATION_SIGNATURE,
            action=Action.CREATE,
            reason=reason,
            resource_id=_ref(ctx, image.repository, tag),
            summary=f"notation signature {image.repository}:{tag} "
            f"({_short(params.digest)}, {fmt}, {signer}{covers}{detail})",
            before=before,
            after=after,
            diff=attribute_diff(None, after),
            depends_on=_signing_depends(ctx, imported, key_depends),
            spec_location=ctx.where(f"images.{index}.sign"),
            params=params,
            target=ctx.target,
        )
    )


def _delete(
    ctx: DocumentContext,
    index: int,
    image: ImageSpec,
    tag: str,
    live: LiveTag,
    signature: LiveNotationSignature,
    reason: Reason,
) -> None:
    key: dict[str, str | None] = {"key_source": "none", "subject": signature.subject}
    params = _params(
        ctx,
        image.repository,
        tag,
        live,
        image,
        key,
        signature.signature_format,
        signature.digest,
    )
    before = {
        "signature": signature.digest,
        "verdict": signature.verdict.value,
        "signer": signature.subject,
    }
    what = "trusted" if signature.verdict is SignatureVerdict.TRUSTED else "untrusted"
    ctx.add(
        Change(
            address=_address(ctx, image.repository, tag, signature.digest),
            kind=Kind.NOTATION_SIGNATURE,
            action=Action.DELETE,
            reason=reason,
            resource_id=_ref(ctx, image.repository, tag),
            summary=f"remove {what} notation signature {_short(signature.digest)} of "
            f"{image.repository}:{tag} ({_short(live.digest)}, {signature.signature_format}, "
            f"{signature.subject or 'unknown signer'})",
            before=before,
            after=None,
            diff=attribute_diff(before, None),
            depends_on=(names.registry_address(ctx.subscription, ctx.registry_name),),
            spec_location=ctx.where(f"images.{index}.sign"),
            params=params,
            target=ctx.target,
        )
    )


def _in_sync(ctx: DocumentContext, index: int, image: ImageSpec, tag: str, live: LiveTag) -> None:
    notation = ctx.doc.spec.notation
    assert notation is not None
    trusted = [s for s in live.signatures if s.verdict is SignatureVerdict.TRUSTED]
    state = {"digest": live.digest, "signed": bool(trusted)}
    key: dict[str, str | None] = {"key_source": "none", "subject": None}
    fmt = trusted[0].signature_format if trusted else notation.signature_format.value
    signer = trusted[0].subject if trusted else None
    ctx.add(
        Change(
            address=_address(ctx, image.repository, tag),
            kind=Kind.NOTATION_SIGNATURE,
            action=Action.NOOP,
            reason=Reason.IN_SYNC,
            resource_id=_ref(ctx, image.repository, tag),
            summary=f"notation signature {image.repository}:{tag} "
            f"({'signed' if trusted else 'unsigned'}, {_short(live.digest)}"
            + (f", {signer}" if signer else "")
            + ")",
            before=state,
            after=state,
            spec_location=ctx.where(f"images.{index}.sign"),
            params=_params(ctx, image.repository, tag, live, image, key, fmt),
            target=ctx.target,
        )
    )


def _invalid(ctx: DocumentContext, index: int, image: ImageSpec, tag: str, live: LiveTag) -> bool:
    """An invalid signature is reported; without a trusted one beside it, nothing is done."""
    invalid = [s for s in live.signatures if s.verdict is SignatureVerdict.INVALID]
    if not invalid:
        return False
    trusted = any(s.verdict is SignatureVerdict.TRUSTED for s in live.signatures)
    first = invalid[0]
    message = (
        f"signature {first.digest} of {live.digest} is invalid: "
        f"{first.reason or 'verification failed'}; it may have been tampered with"
    )
    if trusted:
        ctx.warn(_ref(ctx, image.repository, tag), message, f"images.{index}", "notation-invalid")
        return False
    ctx.error(
        _ref(ctx, image.repository, tag),
        message + "; investigate (and delete it) before signing",
        f"images.{index}.sign",
        "notation-signature-invalid",
    )
    return True


def plan_notation_signatures(ctx: DocumentContext, tags: NotationTags) -> None:
    notation = ctx.doc.spec.notation
    assert notation is not None
    present = any(live is not None for _, _, _, live, _ in tags.entries)
    if ctx.data is not None and present and not ctx.data.notation_read:
        why = ctx.data.notation_problem
        ctx.error(
            ctx.registry_id,
            "Notary Project signatures of this registry were not read"
            + (f" ({why})" if why else "")
            + ", so they cannot be planned",
            "notation",
            "notation-not-read",
        )
        return
    if ctx.data is not None and ctx.data.notation_read and ctx.data.notation_problem:
        ctx.warn(
            ctx.registry_id,
            f"{ctx.data.notation_problem}: signatures were judged by their signer's subject "
            "alone (a self-signed certificate of a trusted identity counts as the signing "
            "certificate); apply, which reads the certificate, judges them again",
            "notation.signingKey",
            "notation-judged-by-subject",
        )
    planned: dict[tuple[str, str], list[str]] = {}
    removed: set[str] = set()
    creates: list[tuple[int, ImageSpec, str, LiveTag | None, Change | None, str | None]] = []
    for index, image, tag, live, imported in tags.entries:
        if live is not None and _invalid(ctx, index, image, tag, live):
            continue
        signatures = live.signatures if live else ()
        trusted = [s for s in signatures if s.verdict is SignatureVerdict.TRUSTED]
        untrusted = [s for s in signatures if s.verdict is SignatureVerdict.UNTRUSTED]
        if notation.prune and live is not None:
            for signature in untrusted:
                if signature.digest not in removed:
                    removed.add(signature.digest)
                    _delete(ctx, index, image, tag, live, signature, Reason.PRUNE)
        if not image.sign:
            for signature in trusted:
                if live is not None and signature.digest not in removed:
                    removed.add(signature.digest)
                    _delete(ctx, index, image, tag, live, signature, ctx.changed_reason())
            if live is not None and not trusted:
                _in_sync(ctx, index, image, tag, live)
            continue
        if trusted and live is not None:
            _in_sync(ctx, index, image, tag, live)
            continue
        digest = live.digest if live else image.digest
        if digest is not None and (image.repository, digest) in planned:
            planned[(image.repository, digest)].append(f"{image.repository}:{tag}")
            continue
        expired = any(s.expired for s in untrusted)
        why = "the signature's certificate expired: re-sign" if expired else None
        if digest is not None:
            planned[(image.repository, digest)] = []
        creates.append((index, image, tag, live, imported, why))
    key_depends = _key_depends(ctx)
    for index, image, tag, live, imported, why in creates:
        digest = live.digest if live else image.digest
        also = planned.get((image.repository, digest), []) if digest else []
        _create(ctx, index, image, tag, live, imported, also, why, key_depends)
