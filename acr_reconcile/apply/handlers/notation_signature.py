"""Notary Project signatures: the handler of the ``notation-signature`` kind.

Every signature change of one registry is one unit, run through a small thread pool:
the login server is read once, the signer made once per key, and at most
``SIGNING_CONCURRENCY`` signatures are in flight, which keeps Key Vault well inside its
per-vault limit (4,000 RSA-2048 signs per 10 s) while its answers' latency overlaps;
a 429 is waited out by azure-core's retry policy, which honours ``Retry-After``. Changes
on the same manifest run one after another, so this run never races itself on that
manifest's ``sha256-<hex>`` index.

A create re-reads at run time what it signs: the registry's login server (a registry
this apply created had none at plan time) and the tag's manifest (an import of this
apply made it); a tag that moved away from the digest the plan showed is refused, not
signed. Before signing, the manifest's signatures are listed again: one by the same
certificate that verifies is kept (a rerun after a crash, or a retry, never adds a
second). Then the envelope (COSE, or JWS on request) over the manifest's descriptor is
signed through the signer (the digest goes to Key Vault, or the local key signs it), and
the envelope, the empty config and the signature manifest are pushed as the bytes that
were hashed (``registry/signature_push.py``); the run's ledger keeps what was pushed, for
a migration's verification (``apply/migration.py``). A delete takes the signature manifest out
of the tag-schema index and deletes it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from acr_reconcile.apply import retry
from acr_reconcile.apply.context import ApplyContext, NotationSeams
from acr_reconcile.apply.handlers.common import registry_coordinates
from acr_reconcile.apply.migration import PushedSignature
from acr_reconcile.errors import AcrReconcileError, ConfigError, RegistryError
from acr_reconcile.live.state import LiveNotationSignature, SignatureVerdict
from acr_reconcile.notation.signer import Signer
from acr_reconcile.plan.model import Action, Change, NotationSignatureParams
from acr_reconcile.redact import redact
from acr_reconcile.registry.client import RegistryClient

if TYPE_CHECKING:
    from acr_reconcile.notation.verify import VerificationPolicy

SIGNING_CONCURRENCY = 4


def group_key(change: Change) -> str:
    """The signature changes of one registry share a unit (one login server read, one
    signer per key, one bounded pool)."""
    params = change.params_as(NotationSignatureParams)
    return f"notation|{change.target}|{params.subscription_id.lower()}|{params.registry.lower()}"


def existing_signature(
    signatures: Sequence[LiveNotationSignature], leaf_thumbprint: str
) -> str | None:
    """The digest of a signature that verifies and was made by the certificate with SHA-256
    fingerprint ``leaf_thumbprint``, if the manifest has one (then signing again would
    only add a duplicate)."""
    wanted = leaf_thumbprint.lower()
    for signature in signatures:
        if signature.verdict is not SignatureVerdict.TRUSTED:
            continue
        if signature.thumbprints and signature.thumbprints[0].lower() == wanted:
            return signature.digest
    return None


def _login_server(ctx: ApplyContext, params: NotationSignatureParams) -> str:
    sub, group, name = registry_coordinates(params)
    live = ctx.session.registries(sub).registries.get(group, name).as_dict()
    server = str((live.get("properties") or {}).get("loginServer") or "")
    if not server:
        raise RegistryError(f"registry {name}: it has no login server yet")
    return server


def _own_policy(signer: Signer) -> VerificationPolicy:
    """A policy that trusts exactly the signer's chain root, any identity: with the
    thumbprint check it finds this certificate's own valid signatures."""
    from cryptography.hazmat.primitives.serialization import Encoding

    from acr_reconcile.notation.verify import NamedStore, StoreType, VerificationPolicy

    root = signer.certificate_chain()[-1].public_bytes(Encoding.DER)
    return VerificationPolicy("signer", (NamedStore(StoreType.CA, "signer", (root,)),), (None,))


def _create(change: Change, ctx: ApplyContext, seams: NotationSeams, client: RegistryClient
            ) -> str:  # fmt: skip
    from acr_reconcile.live.notation import read_signatures
    from acr_reconcile.notation.envelope import SignatureFormat, SignRequest, chain_der
    from acr_reconcile.notation.envelopes import build_envelope
    from acr_reconcile.notation.manifest import signature_artifact
    from acr_reconcile.notation.payload import Descriptor
    from acr_reconcile.registry.signature_push import push_signature

    params = change.params_as(NotationSignatureParams)
    manifest = client.manifest(params.repository, params.tag)
    if manifest is None:
        raise RegistryError(f"{change.resource_id}: the tag is not in the registry")
    if params.digest and params.digest != manifest.digest:
        raise RegistryError(
            f"{change.resource_id}: the tag moved to {manifest.digest} since the plan "
            f"showed {params.digest}; nothing was signed: run plan again"
        )
    subject = Descriptor(manifest.media_type, manifest.digest, manifest.size)
    signer = seams.signer(params, ctx)
    chain = list(chain_der(signer))
    now = datetime.now(UTC)
    found, _ = read_signatures(client, params.repository, subject, _own_policy(signer), now)
    already = existing_signature(found, hashlib.sha256(chain[0]).hexdigest())
    if already is not None:
        return f"already signed by this certificate ({already[:19]}…)"
    fmt = SignatureFormat(params.signature_format)
    envelope = build_envelope(fmt, SignRequest(subject, signer, now))
    artifact = signature_artifact(envelope, fmt, subject, chain, now)
    pushed = push_signature(client, params.repository, subject.digest, artifact)
    # what a migration's verification of this digest needs, without reading it back
    ctx.migration.pushed(
        params.subscription_id,
        params.registry,
        params.repository,
        PushedSignature(subject, pushed.digest, fmt.media_type, artifact.envelope),
    )
    return f"signed {subject.digest[:19]}… ({fmt.value}): {pushed.note}"


def _delete(change: Change, client: RegistryClient) -> str:
    from acr_reconcile.registry.signature_push import remove_signature

    params = change.params_as(NotationSignatureParams)
    if not params.digest or not params.signature_digest:
        raise ConfigError(f"{change.address}: the plan names no signature to remove")
    return remove_signature(client, params.repository, params.digest, params.signature_digest)


def _subject_key(change: Change) -> tuple[str, str]:
    params = change.params_as(NotationSignatureParams)
    return params.repository, params.digest or f"tag:{params.tag}"


def apply(changes: Sequence[Change], ctx: ApplyContext) -> str:
    if ctx.notation is None:
        raise ConfigError(
            f"{changes[0].address}: Notation signing is not available in this run; "
            "nothing was written for it"
        )
    seams = ctx.notation
    first = changes[0]
    server = retry.call(
        lambda: _login_server(ctx, first.params_as(NotationSignatureParams)),
        first.resource_id,
        "reading the registry's login server",
        ctx.retry,
    )
    client = seams.registry(server)

    def one(change: Change) -> str:
        if change.action is Action.DELETE:
            work = lambda: _delete(change, client)  # noqa: E731
        else:
            work = lambda: _create(change, ctx, seams, client)  # noqa: E731
        doing = "removing the signature" if change.action is Action.DELETE else "signing"
        return retry.call(work, change.resource_id, doing, ctx.retry)

    def serial(group: list[Change]) -> list[tuple[Change, str | AcrReconcileError]]:
        done: list[tuple[Change, str | AcrReconcileError]] = []
        for change in group:
            try:
                done.append((change, one(change)))
            except AcrReconcileError as error:
                done.append((change, error))
        return done

    groups: dict[tuple[str, str], list[Change]] = {}
    for change in sorted(changes, key=lambda c: c.action is not Action.DELETE):
        groups.setdefault(_subject_key(change), []).append(change)
    workers = max(1, min(SIGNING_CONCURRENCY, len(groups)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="notation") as pool:
        outcomes = [o for batch in pool.map(serial, groups.values()) for o in batch]
    return _summary(outcomes)


def _summary(outcomes: Sequence[tuple[Change, str | AcrReconcileError]]) -> str:
    failed = [(c, o) for c, o in outcomes if isinstance(o, AcrReconcileError)]
    notes = [o for _, o in outcomes if isinstance(o, str)]
    if not failed:
        return notes[0] if len(notes) == 1 else f"{len(notes)} signature changes done"
    lines = [f"{len(failed)} of {len(outcomes)} signature change(s) failed"]
    lines += [f"  {c.address}: {redact(str(o))}" for c, o in failed]
    if notes:
        lines.append(f"  ({len(notes)} done; run apply again to finish: it converges)")
    raise _UnitFailed("\n".join(lines), transient=all(o.transient for _, o in failed))


class _UnitFailed(AcrReconcileError):
    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient
