"""The migration's verification before the trust disable, against a registry whose every
answer the test decides: a signature this run pushed is proved by the listing alone (its
bytes are verified in memory), one the registry does not list, or that does not verify,
is read back in full and fails the verification, so trust stays enabled."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from acr_reconcile.apply.migration import MigrationLedger, PushedSignature, carried_verifier
from acr_reconcile.errors import AcrReconcileError
from acr_reconcile.live.dct import DctInventory, InventoryEntry
from acr_reconcile.notation.envelope import SignatureFormat, SignRequest, chain_der
from acr_reconcile.notation.envelopes import build_envelope
from acr_reconcile.notation.manifest import SIGNATURE_ARTIFACT_TYPE, signature_artifact
from acr_reconcile.notation.payload import Descriptor
from acr_reconcile.plan.model import Action, Change, Kind, Reason, SignatureVerificationParams
from acr_reconcile.registry.client import RegistryClient
from acr_reconcile.registry.referrers import INDEX_MEDIA_TYPE
from tests.support.fake_https import FakeServer, Reply, Seen
from tests.support.notation_certs import Identity, self_signed

SUB, REGISTRY, REPO = "00000000-0000-0000-0000-000000000001", "legacy", "hello"
OCI = "application/vnd.oci.image.manifest.v1+json"
SUBJECT = Descriptor(OCI, "sha256:" + "ab" * 32, 527)


class _NoTokens:
    def access_token(self, *, realm: str, service: str, scopes: Sequence[str]) -> str:
        raise AssertionError("no token is asked for")


@dataclass
class _Plane:
    client: RegistryClient

    def registry(self, login_server: str) -> RegistryClient:
        return self.client


@dataclass(frozen=True)
class _Signed:
    pushed: PushedSignature
    manifest: bytes


def _signed(identity: Identity) -> _Signed:
    signer = identity.signer
    now = datetime.now(UTC)
    envelope = build_envelope(SignatureFormat.COSE, SignRequest(SUBJECT, signer, now))
    artifact = signature_artifact(
        envelope, SignatureFormat.COSE, SUBJECT, list(chain_der(signer)), now
    )
    pushed = PushedSignature(SUBJECT, artifact.digest, SignatureFormat.COSE.media_type, envelope)
    return _Signed(pushed, artifact.manifest)


def _answers(listed: Sequence[_Signed]) -> dict[str, Reply]:
    """The referrers listing of SUBJECT naming ``listed``, and what a full read fetches."""
    index = {
        "schemaVersion": 2,
        "mediaType": INDEX_MEDIA_TYPE,
        "manifests": [
            {
                "mediaType": OCI,
                "digest": s.pushed.manifest_digest,
                "size": len(s.manifest),
                "artifactType": SIGNATURE_ARTIFACT_TYPE,
            }
            for s in listed
        ],
    }
    answers = {
        f"/v2/{REPO}/referrers/{SUBJECT.digest}": Reply(
            200, {"Content-Type": INDEX_MEDIA_TYPE}, json.dumps(index).encode()
        ),
        f"/v2/{REPO}/manifests/{SUBJECT.digest}": Reply(
            200,
            {"Content-Type": OCI, "Docker-Content-Digest": SUBJECT.digest},
            b"x" * SUBJECT.size,
        ),
    }
    for s in listed:
        layer = json.loads(s.manifest)["layers"][0]["digest"]
        answers[f"/v2/{REPO}/manifests/{s.pushed.manifest_digest}"] = Reply(
            200, {"Content-Type": OCI}, s.manifest
        )
        answers[f"/v2/{REPO}/blobs/{layer}"] = Reply(200, {}, s.pushed.envelope)
    return answers


def _verify(
    tmp_path: Path,
    certs: tuple[Path, Path, Path],
    servers: list[FakeServer],
    trusted: Identity,
    answers: dict[str, Reply],
    pushed: PushedSignature | None,
) -> tuple[MigrationLedger, list[Seen], str | AcrReconcileError]:
    def handler(seen: Seen) -> Reply:
        for path, reply in answers.items():
            if seen.path.split("?")[0] == path:
                return reply
        return Reply(404, {"Content-Type": "application/json"}, b'{"errors":[{"code":"X"}]}')

    server = FakeServer(certs, handler)
    servers.append(server)
    _, certificate = trusted.write(tmp_path)
    params = SignatureVerificationParams(
        SUB, "rg", REGISTRY, f"127.0.0.1:{server.port}", 1, "file", None,
        certificate_file=str(certificate),
    )  # fmt: skip
    change = Change(
        address=f"signature-verification:{SUB}/{REGISTRY}",
        kind=Kind.SIGNATURE_VERIFICATION,
        action=Action.CREATE,
        reason=Reason.MISSING,
        resource_id=f"/x/{REGISTRY}",
        summary="verify the carried signatures",
        params=params,
    )
    ledger = MigrationLedger()
    expires = datetime.now(UTC) + timedelta(days=30)
    entry = InventoryEntry(REPO, "v1", "targets", SUBJECT.digest, SUBJECT.size, expires, "k")
    inventory = DctInventory(REGISTRY, params.login_server, datetime.now(UTC), (entry,))
    ledger.wrote(SUB, REGISTRY, tmp_path / "inventory.json", inventory)
    if pushed is not None:
        ledger.pushed(SUB, REGISTRY, REPO, pushed)
    with RegistryClient(params.login_server, _NoTokens(), str(server.ca)) as client:
        verify = carried_verifier(None, _Plane(client), ledger)  # type: ignore[arg-type]
        try:
            outcome: str | AcrReconcileError = verify(change)
        except AcrReconcileError as error:
            outcome = error
    return ledger, list(server.seen), outcome


def test_a_signature_this_run_pushed_is_proved_by_the_listing_alone(
    tmp_path: Path, certs: tuple[Path, Path, Path], servers: list[FakeServer]
) -> None:
    release = self_signed()
    signed = _signed(release)
    ledger, seen, outcome = _verify(
        tmp_path, certs, servers, release, _answers([signed]), signed.pushed
    )
    assert outcome == "verified the Notation signatures of 1 digest(s) DCT signed"
    assert [(s.method, s.path.split("?")[0]) for s in seen] == [
        ("GET", f"/v2/{REPO}/referrers/{SUBJECT.digest}")
    ]
    assert ledger.refusal(SUB, REGISTRY) is None


def test_a_pushed_signature_the_registry_does_not_list_keeps_trust_enabled(
    tmp_path: Path, certs: tuple[Path, Path, Path], servers: list[FakeServer]
) -> None:
    release = self_signed()
    signed = _signed(release)
    ledger, seen, outcome = _verify(tmp_path, certs, servers, release, _answers([]), signed.pushed)
    assert isinstance(outcome, AcrReconcileError)
    assert f"{REPO}@{SUBJECT.digest} (tags v1): no trusted Notation signature" in str(outcome)
    assert "content trust stays enabled" in str(outcome)
    assert ledger.refusal(SUB, REGISTRY) is not None
    # the fallback read the subject and listed again: the failure is judged on a full read
    assert ("HEAD", f"/v2/{REPO}/manifests/{SUBJECT.digest}") in [
        (s.method, s.path.split("?")[0]) for s in seen
    ]


def test_a_pushed_envelope_that_does_not_verify_is_read_back_and_fails(
    tmp_path: Path, certs: tuple[Path, Path, Path], servers: list[FakeServer]
) -> None:
    release, stranger = self_signed(), self_signed(cn="stranger")
    signed = _signed(stranger)  # listed, but not by the certificate the migration trusts
    ledger, seen, outcome = _verify(
        tmp_path, certs, servers, release, _answers([signed]), signed.pushed
    )
    assert isinstance(outcome, AcrReconcileError)
    assert "no trusted Notation signature" in str(outcome)
    assert ledger.refusal(SUB, REGISTRY) is not None
    paths = [s.path.split("?")[0] for s in seen]
    assert f"/v2/{REPO}/manifests/{signed.pushed.manifest_digest}" in paths  # read back


def test_a_digest_signed_before_this_run_is_read_back_in_full(
    tmp_path: Path, certs: tuple[Path, Path, Path], servers: list[FakeServer]
) -> None:
    release = self_signed()
    earlier = _signed(release)  # in the registry, but not pushed by this run
    ledger, seen, outcome = _verify(tmp_path, certs, servers, release, _answers([earlier]), None)
    assert outcome == "verified the Notation signatures of 1 digest(s) DCT signed"
    layer = json.loads(earlier.manifest)["layers"][0]["digest"]
    assert [(s.method, s.path.split("?")[0]) for s in seen] == [
        ("HEAD", f"/v2/{REPO}/manifests/{SUBJECT.digest}"),
        ("GET", f"/v2/{REPO}/referrers/{SUBJECT.digest}"),
        ("GET", f"/v2/{REPO}/manifests/{earlier.pushed.manifest_digest}"),
        ("GET", f"/v2/{REPO}/blobs/{layer}"),
    ]
    assert ledger.refusal(SUB, REGISTRY) is None
