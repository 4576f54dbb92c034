"""What a migration from DCT must have done in this run before it may disable trust.

Disabling content trust deletes every DCT signature for good, so the trust-policy
handler of a migration asks the ledger here, not the plan: the DCT inventory must have
been written to its file by this very run (``apply/evidence.py``), and every digest of
that inventory must have been verified by this run to carry a Notary Project signature
that the signing certificate vouches for (the ``signature-verification`` change, whose
handler is :func:`carried_verifier`). The executor's order already puts both first; the
ledger makes the disable refuse by itself if anything, a hand-edited plan included, got
there another way.

The ledger also keeps what this run's signing pushed (the subject's descriptor, the
signature manifest's digest and the envelope's bytes). For those digests the verification
lists the subject's signatures and requires the pushed manifest among them, then verifies
the envelope this run signed, in memory: one request per digest instead of four. Reading
the manifest and the envelope back would prove nothing the listing does not: the listed
digest is the SHA-256 of the manifest bytes pushed, which name the envelope by its own
digest, and the registry accepted both only after checking those digests (the
distribution spec's upload and manifest PUT). A digest signed earlier (a rerun, or a
signature kept because it already verified) is read back in full, as plan reads it.
``acr-reconcile verify`` always reads everything back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509

from acr_reconcile.errors import AcrReconcileError, AzureError
from acr_reconcile.live.dct import DctInventory
from acr_reconcile.live.fanout import read_all
from acr_reconcile.live.state import SignatureVerdict
from acr_reconcile.plan.model import Change, SignatureVerificationParams
from acr_reconcile.plan.names import target_key

if TYPE_CHECKING:
    from acr_reconcile.azure.clients import AzureSession
    from acr_reconcile.live.images import DataPlane
    from acr_reconcile.notation.payload import Descriptor
    from acr_reconcile.notation.verify import VerificationPolicy
    from acr_reconcile.registry.client import RegistryClient

SHOWN = 5  # digests named in a failed verification; the rest are counted

# verifies one registry's carried signatures (a signature-verification change)
CarriedVerifier = Callable[[Change], str]


@dataclass(frozen=True)
class PushedSignature:
    """A signature this run signed and pushed: what verifying it needs, without reading
    back the bytes it pushed."""

    subject: Descriptor  # the signed manifest, as read when it was signed
    manifest_digest: str  # of the signature manifest pushed
    envelope_media_type: str
    envelope: bytes


class MigrationLedger:
    """Per registry (``<subscription>/<registry>``): the inventory written, whether its
    every digest was verified, and the signatures this run pushed. Shared by the threads
    of one apply run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._written: dict[str, tuple[Path, DctInventory]] = {}
        self._verified: set[str] = set()
        self._pushed: dict[tuple[str, str, str], PushedSignature] = {}

    def pushed(
        self, subscription_id: str, registry: str, repository: str, signature: PushedSignature
    ) -> None:
        """Kept only for a registry whose DCT inventory this run wrote (written before the
        first signature): no other is verified, so an apply that migrates nothing holds
        no envelope."""
        target = target_key(subscription_id, registry)
        with self._lock:
            if target in self._written:
                self._pushed[(target, repository, signature.subject.digest)] = signature

    def pushed_for(
        self, subscription_id: str, registry: str, repository: str, digest: str
    ) -> PushedSignature | None:
        with self._lock:
            return self._pushed.get((target_key(subscription_id, registry), repository, digest))

    def wrote(
        self, subscription_id: str, registry: str, path: Path, inventory: DctInventory
    ) -> None:
        with self._lock:
            self._written[target_key(subscription_id, registry)] = (path, inventory)

    def inventory(self, subscription_id: str, registry: str) -> tuple[Path, DctInventory] | None:
        with self._lock:
            return self._written.get(target_key(subscription_id, registry))

    def verified(self, subscription_id: str, registry: str) -> None:
        with self._lock:
            self._verified.add(target_key(subscription_id, registry))

    def refusal(self, subscription_id: str, registry: str) -> str | None:
        """Why trust may not be disabled yet, or None when it may."""
        key = target_key(subscription_id, registry)
        with self._lock:
            if key not in self._written:
                return "this run did not write the DCT inventory"
            if key not in self._verified:
                return "this run did not verify every signature carried over from DCT"
        return None


def _signing_anchor(session: AzureSession, params: SignatureVerificationParams) -> x509.Certificate:
    """The signing certificate, read now: from the vault, or from its PEM file."""
    from acr_reconcile.live import keyvault
    from acr_reconcile.notation.signer import SignerError, load_certificate_chain

    if params.key_source == "file":
        try:
            chain = load_certificate_chain(Path(params.certificate_file or ""))
        except SignerError as error:
            raise AcrReconcileError(f"verifying the carried signatures: {error}") from None
        if not chain:
            raise AcrReconcileError(f"{params.certificate_file}: holds no certificate")
        return chain[-1] if len(chain) > 1 else chain[0]
    name = f"{params.key_vault}/{params.certificate}"
    vault = keyvault.find_vault(session, params.subscription_id, params.key_vault or "")
    if vault is None:
        raise AcrReconcileError(f"the signing vault {params.key_vault} is not there")
    certificate = keyvault.read_certificate(session, vault, params.certificate or "")
    if not certificate.readable:  # a 403: waited out when this apply granted the roles
        raise AzureError(
            f"certificate {name}", f"cannot be read ({certificate.problem})", status=403
        )
    if certificate.der is None:
        why = certificate.problem or "it does not exist"
        raise AcrReconcileError(f"the signing certificate {name} cannot be read ({why})")
    try:
        return x509.load_der_x509_certificate(certificate.der)
    except ValueError:
        raise AcrReconcileError(f"the signing certificate {name} is not DER X.509") from None


def _policy(anchor: x509.Certificate, params: SignatureVerificationParams) -> VerificationPolicy:
    """Only the signing certificate, with its subject (or the planned one) as identity:
    what the migration's own signatures must pass, whatever else the document trusts."""
    from acr_reconcile.notation.identity import certificate_subject, identity_for, parse_dn
    from acr_reconcile.notation.policy import Anchor, DocumentPolicy, verification_policy

    dn = parse_dn(params.subject) if params.subject else certificate_subject(anchor)
    document = DocumentPolicy(
        params.registry.lower(), (), (Anchor("signing.pem", anchor),), (identity_for(dn),)
    )
    return verification_policy(document)


def _pushed_verifies(
    client: RegistryClient,
    repository: str,
    pushed: PushedSignature,
    policy: VerificationPolicy,
    now: datetime,
) -> bool:
    """Whether the registry lists the signature this run pushed and its envelope verifies
    (if not, the digest is read back in full, and that read says why)."""
    from acr_reconcile.notation.manifest import SIGNATURE_ARTIFACT_TYPE
    from acr_reconcile.notation.verify import Verdict, verify_envelope
    from acr_reconcile.registry.referrers import referrers

    subject = pushed.subject
    listed = referrers(client, repository, subject.digest, SIGNATURE_ARTIFACT_TYPE)
    if not any(found.digest == pushed.manifest_digest for found in listed.referrers):
        return False
    result = verify_envelope(pushed.envelope_media_type, pushed.envelope, subject, policy, now)
    return result.verdict is Verdict.SIGNED


def carried_verifier(
    session: AzureSession, data_plane: DataPlane, ledger: MigrationLedger
) -> CarriedVerifier:
    def verify(change: Change) -> str:
        from acr_reconcile.live.notation import read_signatures
        from acr_reconcile.notation.payload import Descriptor

        params = change.params_as(SignatureVerificationParams)
        written = ledger.inventory(params.subscription_id, params.registry)
        if written is None:
            raise AcrReconcileError(
                f"{change.address}: this run did not write the DCT inventory; nothing verified"
            )
        path, inventory = written
        policy = _policy(_signing_anchor(session, params), params)
        client = data_plane.registry(params.login_server)
        now = datetime.now(UTC)
        digests = sorted(inventory.digests().items())

        def problem(item: tuple[tuple[str, str], tuple[str, ...]]) -> str | None:
            (repository, digest), tags = item
            where = f"{repository}@{digest} (tags {', '.join(tags)})"
            pushed = ledger.pushed_for(params.subscription_id, params.registry, repository, digest)
            if pushed is not None and _pushed_verifies(client, repository, pushed, policy, now):
                return None  # listed, and the envelope pushed verifies
            manifest = client.manifest(repository, digest)
            if manifest is None:
                return f"{where}: the manifest is no longer in the registry"
            subject = Descriptor(str(manifest.media_type), digest, int(manifest.size))
            signatures, _ = read_signatures(client, repository, subject, policy, now)
            if any(s.verdict is SignatureVerdict.TRUSTED for s in signatures):
                return None
            why = "; ".join(s.reason or s.verdict.value for s in signatures) or "unsigned"
            return f"{where}: no trusted Notation signature ({why})"

        # a few reads per digest, as plan reads them: bounded, in order, on the login server
        found = read_all(problem, digests, "carried-verify")
        failed = [p for p in found if p is not None]
        if failed:
            more = f"; and {len(failed) - SHOWN} more" if len(failed) > SHOWN else ""
            raise AcrReconcileError(
                f"{len(failed)} of {len(digests)} digest(s) of {path} do not carry a trusted "
                f"Notation signature, so content trust stays enabled: "
                + "; ".join(failed[:SHOWN])
                + more
            )
        ledger.verified(params.subscription_id, params.registry)
        return f"verified the Notation signatures of {len(digests)} digest(s) DCT signed"

    return verify
