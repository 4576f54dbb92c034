"""Which role a publish signs into, what it uploads, and docker's initialisation, built on
in-memory trust data (no server): the rules docker follows, and nothing signed we lack."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acr_reconcile.errors import SigningKeyError
from acr_reconcile.trust.crypto import SigningKey, root_certificate_key
from acr_reconcile.trust.keys import KeyStore, Passphrases
from acr_reconcile.trust.publish import TagChanges, initial_files, signing_role, update_files
from acr_reconcile.trust.reader import TrustedRepo
from acr_reconcile.trust.tuf import (
    RELEASES,
    DelegatedRole,
    FileMeta,
    Role,
    Root,
    Snapshot,
    Targets,
    parse_envelope,
    parse_root,
    parse_snapshot,
    parse_targets,
)
from acr_reconcile.trust.verify import check_signatures

GUN = "r.test/app"
NOW = datetime(2027, 1, 1, tzinfo=UTC)
LATER = NOW + timedelta(days=365)
OLD = FileMeta(10, {"sha256": hashlib.sha256(b"old").digest()})
NEW_DIGEST = hashlib.sha256(b"new").hexdigest()
PASS = Passphrases(root="r", targets="t", snapshot="s", delegation="d")


class Keys:
    def __init__(self) -> None:
        self.root, self.targets, self.snapshot, self.releases = (
            SigningKey.generate() for _ in range(4)
        )
        self.timestamp = SigningKey.generate()
        self.cert = root_certificate_key(self.root, GUN, NOW)


def _repo(keys: Keys, *, releases_meta: bool = True) -> TrustedRepo:
    root_keys = {
        keys.cert.key_id: keys.cert,
        **{k.key_id: k.public for k in (keys.targets, keys.snapshot, keys.timestamp)},
    }
    roles = {
        "root": Role((keys.cert.key_id,), 1),
        "targets": Role((keys.targets.key_id,), 1),
        "snapshot": Role((keys.snapshot.key_id,), 1),
        "timestamp": Role((keys.timestamp.key_id,), 1),
    }
    releases = DelegatedRole((keys.releases.key_id,), 1, RELEASES, ("",))
    top = Targets(3, LATER, {"top": OLD}, {keys.releases.key_id: keys.releases.public}, (releases,))
    targets = {"targets": top}
    if releases_meta:
        targets[RELEASES] = Targets(5, LATER, {"rel": OLD})
    snapshot = Snapshot(9, LATER, {"targets": OLD, RELEASES: OLD})
    timestamp = Snapshot(9, LATER, {"snapshot": OLD}, "Timestamp")
    return TrustedRepo(GUN, Root(1, LATER, root_keys, roles), timestamp, snapshot, targets, {})


def _store(tmp_path: Path, *held: tuple[SigningKey, str]) -> KeyStore:
    store = KeyStore(tmp_path, PASS)
    for key, role in held:
        store.save(key, role, GUN)
    return KeyStore(tmp_path, PASS)  # a fresh store: keys come from disk


def test_tags_go_to_releases_when_its_key_is_held(tmp_path: Path) -> None:
    keys = Keys()
    repo = _repo(keys)
    store = _store(tmp_path, (keys.releases, RELEASES), (keys.targets, "targets"))
    assert signing_role(repo, store) == RELEASES

    files = update_files(repo, store, TagChanges({"new": (NEW_DIGEST, 7)}, frozenset()), NOW)

    assert set(files) == {RELEASES}  # the server makes snapshot and timestamp
    env = parse_envelope(files[RELEASES])
    check_signatures(
        GUN,
        RELEASES,
        env,
        {keys.releases.key_id: keys.releases.public},
        Role((keys.releases.key_id,), 1),
    )
    body = parse_targets(env.signed)
    assert body.version == 6 and set(body.targets) == {"rel", "new"}
    assert body.targets["new"] == FileMeta(7, {"sha256": bytes.fromhex(NEW_DIGEST)})


def test_a_new_releases_delegation_starts_at_version_one(tmp_path: Path) -> None:
    keys = Keys()
    store = _store(tmp_path, (keys.releases, RELEASES))
    files = update_files(
        _repo(keys, releases_meta=False),
        store,
        TagChanges({"new": (NEW_DIGEST, 7)}, frozenset()),
        NOW,
    )
    assert parse_targets(parse_envelope(files[RELEASES]).signed).version == 1


def test_targets_is_used_without_a_releases_key(tmp_path: Path) -> None:
    keys = Keys()
    store = _store(tmp_path, (keys.targets, "targets"))
    files = update_files(_repo(keys), store, TagChanges({"new": (NEW_DIGEST, 7)}, frozenset()), NOW)
    body = parse_targets(parse_envelope(files["targets"]).signed)
    assert set(files) == {"targets"} and body.version == 4
    assert body.delegations[0].name == RELEASES  # delegations are carried over unchanged


def test_no_key_at_all_is_a_signing_key_error(tmp_path: Path) -> None:
    with pytest.raises(
        SigningKeyError, match="no local private key for targets/releases or targets"
    ):
        update_files(
            _repo(Keys()), _store(tmp_path), TagChanges({"x": (NEW_DIGEST, 1)}, frozenset()), NOW
        )


def test_nothing_to_change_uploads_nothing(tmp_path: Path) -> None:
    keys = Keys()
    store = _store(tmp_path, (keys.releases, RELEASES))
    same = TagChanges({"rel": (OLD.hashes["sha256"].hex(), 10)}, frozenset({"absent"}))
    assert update_files(_repo(keys), store, same, NOW) == {}


def test_removing_a_tag_from_a_role_we_cannot_sign_is_refused(tmp_path: Path) -> None:
    keys = Keys()
    store = _store(tmp_path, (keys.releases, RELEASES))
    with pytest.raises(SigningKeyError, match="targets needs 1 signing key"):
        update_files(_repo(keys), store, TagChanges({}, frozenset({"top"})), NOW)


def test_a_held_snapshot_key_means_we_sign_the_snapshot(tmp_path: Path) -> None:
    keys = Keys()
    store = _store(tmp_path, (keys.targets, "targets"), (keys.snapshot, "snapshot"))
    files = update_files(_repo(keys), store, TagChanges({}, frozenset({"top"})), NOW)
    snapshot = parse_snapshot(parse_envelope(files["snapshot"]).signed)
    assert snapshot.version == 10
    assert snapshot.meta["targets"] == FileMeta.of(files["targets"])
    assert snapshot.meta[RELEASES] == OLD


def test_initialisation_reuses_the_first_root_key_and_lets_the_server_hold_the_rest(
    tmp_path: Path,
) -> None:
    store = KeyStore(tmp_path, PASS)
    roots = sorted((SigningKey.generate() for _ in range(2)), key=lambda k: k.key_id)
    for key in roots:
        store.save(key, "root", None)
    server = {"snapshot": SigningKey.generate().public, "timestamp": SigningKey.generate().public}
    changes = TagChanges({"v1": (NEW_DIGEST, 5)}, frozenset())

    files = initial_files(GUN, store, server, changes, NOW)

    root = parse_root(parse_envelope(files["root"]).signed)
    cert = root.keys[root.roles["root"].keyids[0]]
    assert cert.canonical().key_id == roots[0].key_id
    x509_cert = cert.certificate()
    assert x509_cert is not None
    assert x509_cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == GUN
    assert root.version == 1 and set(root.roles) == {"root", "targets", "snapshot", "timestamp"}
    assert root.roles["snapshot"].keyids == (server["snapshot"].key_id,)
    targets = parse_targets(parse_envelope(files["targets"]).signed)
    assert targets.version == 1 and targets.targets["v1"].length == 5
    held = [e for e in store.entries() if e.role == "targets"]
    assert [(e.gun, e.key_id) for e in held] == [(GUN, root.roles["targets"].keyids[0])]


def test_a_bad_digest_is_refused_before_signing() -> None:
    with pytest.raises(ValueError, match="sha256 hex digest"):
        TagChanges({"v1": ("abc", 1)}, frozenset()).target_metas()


def test_signing_into_targets_a_tag_releases_pins_elsewhere_is_refused(tmp_path: Path) -> None:
    keys = Keys()
    store = _store(tmp_path, (keys.targets, "targets"))
    with pytest.raises(SigningKeyError, match="targets/releases decides pulls of rel"):
        update_files(_repo(keys), store, TagChanges({"rel": (NEW_DIGEST, 7)}, frozenset()), NOW)
    same = TagChanges({"rel": (OLD.hashes["sha256"].hex(), 10), "x": (NEW_DIGEST, 1)}, frozenset())
    assert set(update_files(_repo(keys), store, same, NOW)) == {"targets"}


_tag = st.sampled_from(["a", "b", "c", "rel", "top", "z"])


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(adds=st.dictionaries(_tag, st.integers(0, 3), max_size=4), removes=st.sets(_tag, max_size=3))
def test_releases_ends_with_exactly_the_merged_tags(
    tmp_path: Path, adds: dict[str, int], removes: set[str]
) -> None:
    keys = _module_keys
    store = _store(tmp_path, (keys.releases, RELEASES), (keys.targets, "targets"))
    repo = _repo(keys)
    wanted = {t: (hashlib.sha256(f"{t}{n}".encode()).hexdigest(), n) for t, n in adds.items()}
    files = update_files(repo, store, TagChanges(wanted, frozenset(removes)), NOW)

    def final(role: str) -> dict[str, FileMeta]:
        body = files.get(role)
        return (
            parse_targets(parse_envelope(body).signed).targets
            if body
            else repo.targets[role].targets
        )

    expected = dict(repo.targets[RELEASES].targets)
    expected.update({t: FileMeta(n, {"sha256": bytes.fromhex(h)}) for t, (h, n) in wanted.items()})
    for tag in removes:
        expected.pop(tag, None)
    assert final(RELEASES) == expected
    assert final("targets") == {
        t: m for t, m in repo.targets["targets"].targets.items() if t not in removes
    }


_module_keys = Keys()
