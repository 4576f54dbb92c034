"""The pure parts of signing in apply, and the registry reads it relies on: the tag-schema
index merge and its update under a racing writer, the check that keeps a valid signature
by the same certificate (no duplicate on a rerun), the referrers listing's client-side
artifactType filter, and bounded manifest and blob reads."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from acr_reconcile.apply.handlers.notation_signature import existing_signature
from acr_reconcile.errors import RegistryError
from acr_reconcile.live.state import LiveNotationSignature, SignatureVerdict
from acr_reconcile.notation.manifest import SIGNATURE_ARTIFACT_TYPE, referrer_tag, sha256_digest
from acr_reconcile.registry.client import ManifestRef, PushedManifest, RegistryClient
from acr_reconcile.registry.referrers import INDEX_MEDIA_TYPE, referrers
from acr_reconcile.registry.tag_schema import IndexError_, listed, merge_index, update_index
from tests.support.fake_https import FakeServer, Reply, Seen

OCI = "application/vnd.oci.image.manifest.v1+json"
SUBJECT = "sha256:" + "ab" * 32


def _entry(n: int, artifact_type: str | None = SIGNATURE_ARTIFACT_TYPE) -> dict[str, Any]:
    entry: dict[str, Any] = {"mediaType": OCI, "digest": f"sha256:{n:064x}", "size": 100 + n}
    if artifact_type:
        entry["artifactType"] = artifact_type
    return entry


def _index(*entries: dict[str, Any], extra: dict[str, Any] | None = None) -> bytes:
    body = {"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": list(entries)}
    return json.dumps({**body, **(extra or {})}).encode()


# --- the tag-schema merge -------------------------------------------------------------


def test_merge_starts_an_index_when_there_is_none() -> None:
    merged = merge_index(None, add=_entry(1))
    assert merged is not None
    assert json.loads(merged) == {
        "schemaVersion": 2,
        "mediaType": INDEX_MEDIA_TYPE,
        "manifests": [_entry(1)],
    }


def test_merge_keeps_other_entries_as_served_and_appends() -> None:
    foreign = {**_entry(2, "application/spdx+json"), "annotations": {"x": "y"}, "extra": 1}
    merged = merge_index(_index(foreign), add=_entry(1))
    assert merged is not None
    assert json.loads(merged)["manifests"] == [foreign, _entry(1)]


def test_merge_never_lists_a_manifest_twice_and_writes_nothing_then() -> None:
    assert merge_index(_index(_entry(1)), add=_entry(1)) is None


def test_merge_removes_only_the_named_manifest() -> None:
    merged = merge_index(_index(_entry(1), _entry(2)), remove=_entry(1)["digest"])
    assert merged is not None
    assert json.loads(merged)["manifests"] == [_entry(2)]
    assert merge_index(_index(_entry(2)), remove=_entry(1)["digest"]) is None
    assert merge_index(None, remove=_entry(1)["digest"]) is None


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", _index(extra={"mediaType": OCI}), b'{"manifests": {"a": 1}}'],
    ids=["not-json", "not-object", "a-manifest", "manifests-not-list"],
)
def test_merge_refuses_a_tag_that_is_not_a_referrers_index(body: bytes) -> None:
    with pytest.raises(IndexError_):
        merge_index(body, add=_entry(1))


class _Racing:
    """An in-memory registry where another writer, holding a stale read, writes its own
    index right after each of our first ``races`` PUTs (the lost update the spec warns of)."""

    login_server = "registry.test"

    def __init__(self, races: int, refuse_deletes: int | None = None) -> None:
        self.index: bytes | None = None
        self.races = races
        self.puts = 0
        self.deleted: list[str] = []
        self.refuse_deletes = refuse_deletes  # the status a DELETE gets; None: allowed
        self.deletes_refused: set[str] = set()
        self.delete_calls = 0

    def delete_manifest(self, repository: str, digest: str) -> bool:
        self.delete_calls += 1
        if self.refuse_deletes is not None:
            raise RegistryError("denied", status=self.refuse_deletes)
        assert self.index is None or sha256_digest(self.index) != digest, "the tagged index"
        self.deleted.append(digest)
        return True

    def manifest(self, repository: str, reference: str) -> ManifestRef | None:
        if self.index is None:
            return None
        return ManifestRef(sha256_digest(self.index), len(self.index), INDEX_MEDIA_TYPE)

    def manifest_body(self, repository: str, reference: str, *, limit: int) -> tuple[bytes, str]:
        if self.index is None:
            raise RegistryError("no such manifest", status=404)
        return self.index, INDEX_MEDIA_TYPE

    def put_manifest(
        self, repository: str, reference: str, body: bytes, media_type: str
    ) -> PushedManifest:
        assert reference == referrer_tag(SUBJECT) and media_type == INDEX_MEDIA_TYPE
        self.puts += 1
        self.index = body
        if self.races:
            self.races -= 1
            self.index = _index(_entry(9))  # the other writer's stale view, plus its entry
        return PushedManifest(sha256_digest(body), None)


def test_an_index_update_that_lost_a_race_is_merged_again() -> None:
    registry = _Racing(races=2)
    note = update_index(registry, "repo", SUBJECT, add=_entry(1), sleep=lambda _: None)  # type: ignore[arg-type]
    assert listed(registry.index) == {_entry(1)["digest"], _entry(9)["digest"]}
    assert registry.puts == 3 and note.startswith("updated the referrers index")
    # our first PUT (which the racer replaced) and the racer's index (replaced twice by
    # the same bytes, deleted once); never the index tagged now
    assert registry.deleted == [
        sha256_digest(merge_index(None, add=_entry(1)) or b""),
        sha256_digest(_index(_entry(9))),
    ]


def test_the_index_an_update_replaced_is_deleted_and_the_new_one_kept() -> None:
    registry = _Racing(races=0)
    registry.index = before = _index(_entry(2))
    note = update_index(registry, "repo", SUBJECT, add=_entry(1), sleep=lambda _: None)  # type: ignore[arg-type]
    assert note == "updated the referrers index; deleted 1 replaced index(es)"
    assert registry.deleted == [sha256_digest(before)]
    assert listed(registry.index) == {_entry(1)["digest"], _entry(2)["digest"]}


@pytest.mark.parametrize("status", [401, 403, 405])
def test_a_refused_delete_keeps_the_update_and_is_not_asked_again(status: int) -> None:
    registry = _Racing(races=0, refuse_deletes=status)
    registry.index = _index(_entry(2))
    note = update_index(registry, "repo", SUBJECT, add=_entry(1), sleep=lambda _: None)  # type: ignore[arg-type]
    assert note.startswith("updated the referrers index; the replaced index sha256:")
    assert f"stays (deleting it failed: HTTP {status})" in note
    assert _entry(1)["digest"] in listed(registry.index)
    again = update_index(registry, "repo", SUBJECT, add=_entry(3), sleep=lambda _: None)  # type: ignore[arg-type]
    assert "stays (deleting is refused here)" in again
    assert registry.delete_calls == 1 and registry.deleted == []


def test_an_index_that_already_lists_the_signature_is_not_written() -> None:
    registry = _Racing(races=0)
    registry.index = _index(_entry(1))
    note = update_index(registry, "repo", SUBJECT, add=_entry(1), sleep=lambda _: None)  # type: ignore[arg-type]
    assert registry.puts == 0 and note == "the referrers index already said so"


def test_an_index_that_never_settles_fails_transiently_naming_it() -> None:
    registry = _Racing(races=1000)
    with pytest.raises(RegistryError, match="kept changing") as raised:
        update_index(registry, "repo", SUBJECT, add=_entry(1), sleep=lambda _: None)  # type: ignore[arg-type]
    assert raised.value.transient and referrer_tag(SUBJECT) in str(raised.value)


# --- idempotence: a valid signature by the same certificate is kept -------------------

LEAF = "c0ffee" * 10 + "abcd"


def _signature(verdict: SignatureVerdict, leaf: str, digest: str = "sha256:" + "1" * 64) -> Any:
    return LiveNotationSignature(digest, "cose", verdict, thumbprints=(leaf, "root"))


def test_a_trusted_signature_by_the_same_certificate_is_found() -> None:
    found = [
        _signature(SignatureVerdict.TRUSTED, "other", "sha256:" + "2" * 64),
        _signature(SignatureVerdict.TRUSTED, LEAF.upper()),
    ]
    assert existing_signature(found, LEAF) == "sha256:" + "1" * 64


@pytest.mark.parametrize(
    "signatures",
    [
        [],
        [_signature(SignatureVerdict.TRUSTED, "another-leaf")],
        [_signature(SignatureVerdict.UNTRUSTED, LEAF)],  # e.g. expired: sign again
        [_signature(SignatureVerdict.INVALID, LEAF)],
        [LiveNotationSignature("sha256:" + "3" * 64, "jws", SignatureVerdict.TRUSTED)],
    ],
    ids=["none", "other-certificate", "untrusted", "invalid", "no-thumbprints"],
)
def test_nothing_else_counts_as_already_signed(signatures: Sequence[Any]) -> None:
    assert existing_signature(signatures, LEAF) is None


# --- referrers listing over HTTPS: client-side filtering, fallback, paging ---------------


class _NoTokens:
    def access_token(self, *, realm: str, service: str, scopes: Sequence[str]) -> str:
        raise AssertionError("no token is asked for")


def _serve(
    certs: tuple[Path, Path, Path], servers: list[FakeServer], answers: dict[str, Reply]
) -> RegistryClient:
    def handler(seen: Seen) -> Reply:
        for prefix, reply in answers.items():
            if seen.path.startswith(prefix):
                return reply
        return Reply(404, {"Content-Type": "application/json"}, b'{"errors":[{"code":"X"}]}')

    server = FakeServer(certs, handler)
    servers.append(server)
    return RegistryClient(f"127.0.0.1:{server.port}", _NoTokens(), str(server.ca))


def test_a_registry_that_ignored_the_filter_is_filtered_here_across_pages(
    certs: tuple[Path, Path, Path], servers: list[FakeServer]
) -> None:
    path = f"/v2/repo/referrers/{SUBJECT}"
    answers = {
        path + "?page=2": Reply(
            200, {"Content-Type": INDEX_MEDIA_TYPE}, _index(_entry(3), _entry(4, "x/sbom"))
        ),
        path: Reply(
            200,
            {"Content-Type": INDEX_MEDIA_TYPE, "Link": f'<{path}?page=2>; rel="next"'},
            _index(_entry(1), _entry(2, "application/spdx+json"), _entry(5, None)),
        ),
    }
    with _serve(certs, servers, answers) as client:
        found = referrers(client, "repo", SUBJECT, SIGNATURE_ARTIFACT_TYPE)
    assert found.referrers_api is True
    assert [r.digest for r in found.referrers] == [_entry(1)["digest"], _entry(3)["digest"]]


def test_a_registry_that_says_it_filtered_is_taken_at_its_word(
    certs: tuple[Path, Path, Path], servers: list[FakeServer]
) -> None:
    headers = {"Content-Type": INDEX_MEDIA_TYPE, "OCI-Filters-Applied": "artifactType"}
    answers = {"/v2/repo/referrers/": Reply(200, headers, _index(_entry(1, None)))}
    with _serve(certs, servers, answers) as client:
        found = referrers(client, "repo", SUBJECT, SIGNATURE_ARTIFACT_TYPE)
    assert [r.digest for r in found.referrers] == [_entry(1)["digest"]]


def test_without_the_api_the_tag_schema_index_is_read_and_filtered(
    certs: tuple[Path, Path, Path], servers: list[FakeServer]
) -> None:
    unsupported = b'{"errors":[{"code":"UNSUPPORTED","message":"no referrers API"}]}'
    index = _index(_entry(1), _entry(2, "application/spdx+json"))
    answers = {
        "/v2/repo/referrers/": Reply(404, {"Content-Type": "application/json"}, unsupported),
        f"/v2/repo/manifests/{referrer_tag(SUBJECT)}": Reply(
            200,
            {"Content-Type": INDEX_MEDIA_TYPE, "Docker-Content-Digest": "sha256:" + "9" * 64},
            index,
        ),
    }
    with _serve(certs, servers, answers) as client:
        found = referrers(client, "repo", SUBJECT, SIGNATURE_ARTIFACT_TYPE)
    assert found.referrers_api is False
    assert [r.digest for r in found.referrers] == [_entry(1)["digest"]]


def test_an_unknown_repository_has_no_referrers_and_no_fallback(
    certs: tuple[Path, Path, Path], servers: list[FakeServer]
) -> None:
    unknown = b'{"errors":[{"code":"NAME_UNKNOWN"}]}'
    answers = {"/v2/repo/referrers/": Reply(404, {"Content-Type": "application/json"}, unknown)}
    with _serve(certs, servers, answers) as client:
        found = referrers(client, "repo", SUBJECT, SIGNATURE_ARTIFACT_TYPE)
    assert found.referrers == () and found.referrers_api is True
    assert not any("/manifests/" in s.path for s in servers[0].seen)


def test_a_next_page_on_another_host_is_refused(
    certs: tuple[Path, Path, Path], servers: list[FakeServer]
) -> None:
    headers = {
        "Content-Type": INDEX_MEDIA_TYPE,
        "Link": '<https://elsewhere.example/v2/repo/referrers/x?page=2>; rel="next"',
    }
    answers = {"/v2/repo/referrers/": Reply(200, headers, _index(_entry(1)))}
    with (
        _serve(certs, servers, answers) as client,
        pytest.raises(RegistryError, match="another host"),
    ):
        referrers(client, "repo", SUBJECT, SIGNATURE_ARTIFACT_TYPE)


# --- bounded reads ---------------------------------------------------------------------


def test_a_manifest_or_blob_longer_than_its_limit_is_refused_naming_it(
    certs: tuple[Path, Path, Path], servers: list[FakeServer]
) -> None:
    big = b"{" + b" " * 5000 + b"}"
    answers = {
        "/v2/repo/manifests/": Reply(200, {"Content-Type": OCI}, big, length=-1),
        "/v2/repo/blobs/": Reply(200, {}, big),
    }
    with _serve(certs, servers, answers) as client:
        with pytest.raises(RegistryError, match="longer than 1000 bytes") as raised:
            client.manifest_body("repo", "v1", limit=1000)
        assert "manifest repo:v1" in str(raised.value)
        with pytest.raises(RegistryError, match="longer than 1000 bytes"):
            client.blob("repo", "sha256:" + "0" * 64, limit=1000)
        assert client.manifest_body("repo", "v1")[0] == big  # within the default limit


# --- judged by subject: a plan by an identity that may not read the vault's certificate --


def _by_subject_policy(identity: str) -> Any:
    from acr_reconcile.notation.identity import parse_identity
    from acr_reconcile.notation.verify import VerificationPolicy

    return VerificationPolicy("p", (), (parse_identity(identity),), by_subject=True)


def test_by_subject_a_self_signed_leaf_of_the_trusted_identity_is_trusted() -> None:
    from datetime import UTC, datetime

    from acr_reconcile.notation.envelope import SignatureFormat, SignRequest
    from acr_reconcile.notation.envelopes import build_envelope
    from acr_reconcile.notation.payload import Descriptor
    from acr_reconcile.notation.verify import Verdict, verify_envelope
    from tests.support.notation_certs import (
        Identity,
        ca_chain,
        certificate,
        name,
        new_key,
        self_signed,
    )

    target = Descriptor(OCI, SUBJECT, 10)
    now = datetime.now(UTC)
    policy = _by_subject_policy("x509.subject: C=US, ST=WA, O=Contoso")

    def verdict(identity: Any) -> Verdict:
        data = build_envelope(SignatureFormat.COSE, SignRequest(target, identity.signer, now))
        return verify_envelope("application/cose", data, target, policy, now).verdict

    key = new_key("p256")
    fabrikam = Identity(key, [certificate(key, name("release", org="Fabrikam"))])
    assert verdict(self_signed("p256")) is Verdict.SIGNED
    assert verdict(fabrikam) is Verdict.UNTRUSTED  # another identity
    assert verdict(ca_chain("p256")) is Verdict.UNTRUSTED  # a chain needs a real anchor


# --- which vaults' 403s are a grant's delay, not a refusal ------------------------------


def test_vaults_this_plan_makes_or_grants_the_caller_roles_on_are_waited_for() -> None:
    from acr_reconcile.apply.notation_keys import vaults_made_or_granted
    from acr_reconcile.plan.model import (
        Action,
        Change,
        Kind,
        Plan,
        Reason,
        RoleAssignmentParams,
        SigningCertificateParams,
    )

    vault = "/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/"

    def role(scope: str, for_caller: bool) -> Change:
        params = RoleAssignmentParams("s", "g", "r", scope, "n", "p", "ServicePrincipal", "x",
                                      for_caller=for_caller)  # fmt: skip
        return Change(f"role:{scope}{for_caller}", Kind.ROLE_ASSIGNMENT, Action.CREATE,
                      Reason.MISSING, scope, "role", params=params)  # fmt: skip

    certificate = SigningCertificateParams("s", "g", "Made-Here", "c", "CN=x", "RSA", 2048,
                                           False, "digitalSignature", "1.3.6.1.5.5.7.3.3", 12,
                                           False)  # fmt: skip
    made = Change(
        "cert", Kind.SIGNING_CERTIFICATE, Action.CREATE, Reason.MISSING, "c", "cert",
        params=certificate,
    )  # fmt: skip
    plan = Plan(
        (
            role(vault + "Granted", True),
            role(vault + "SignersOnly", False),  # a signer's grant: the caller waits for none
            role("/subscriptions/s/resourceGroups/g/providers/x/registries/r", True),
            made,
        )
    )
    assert vaults_made_or_granted(plan) == {"granted", "made-here"}
