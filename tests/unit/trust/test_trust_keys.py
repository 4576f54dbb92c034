"""The trust directory: where keys live, which passphrase opens which key, file modes, and
errors that say what is missing without revealing any secret."""

from __future__ import annotations

import shutil
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from acr_reconcile.errors import SigningKeyError
from acr_reconcile.trust.crypto import SigningKey, root_certificate_key
from acr_reconcile.trust.keys import KeyStore, Passphrases, default_trust_dir

FIXTURE_PRIVATE = Path(__file__).parent / "fixtures" / "trust" / "private"
CLI_KEY_ID = "c2c6d1c725a0d2e9b82a757173a5c6f8bf386485faf32dc75d877769aae5bd1b"


def test_trust_dir_follows_docker_config() -> None:
    assert default_trust_dir({"DOCKER_CONFIG": "/cfg"}) == Path("/cfg/trust")
    assert default_trust_dir({}) == Path.home() / ".docker" / "trust"


def test_docker_variables_win_over_notary_ones() -> None:
    env = {
        "DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE": "docker-root",
        "NOTARY_ROOT_PASSPHRASE": "notary-root",
        "DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE": "docker-repo",
        "NOTARY_TARGETS_PASSPHRASE": "notary-targets",
    }
    found = Passphrases.from_env(env)
    assert found.for_role("root") == "docker-root"
    assert found.for_role("targets") == "docker-repo"
    assert found.for_role("targets/releases") == "docker-repo"
    assert "docker" not in repr(found)


def test_notary_variables_are_accepted_per_role() -> None:
    env = {"NOTARY_TARGETS_PASSPHRASE": "t", "NOTARY_DELEGATION_PASSPHRASE": "d"}
    found = Passphrases.from_env(env)
    assert (found.for_role("root"), found.for_role("targets"), found.for_role("alice")) == (
        None,
        "t",
        "d",
    )


def test_saved_keys_are_private_and_listed_from_headers(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "trust", Passphrases(root="r", targets="t"))
    root, targets = SigningKey.generate(), SigningKey.generate()
    root_path = store.save(root, "root", None)
    store.save(targets, "targets", "r.test/app")

    assert stat.S_IMODE(root_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(root_path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "trust").stat().st_mode) == 0o700
    locked = KeyStore(tmp_path / "trust", Passphrases())  # listing needs no passphrase
    listed = {(e.key_id, e.role, e.gun) for e in locked.entries()}
    assert listed == {(root.key_id, "root", None), (targets.key_id, "targets", "r.test/app")}


def test_root_keys_are_found_by_their_certificate_id(tmp_path: Path) -> None:
    store = KeyStore(tmp_path, Passphrases(root="r"))
    key = SigningKey.generate()
    path = store.save(key, "root", None)
    cert = root_certificate_key(key, "r.test/app", datetime.now(UTC))
    assert cert.key_id != key.key_id
    assert store.held({cert.key_id: cert}, [cert.key_id, "unknown"]) == [(cert.key_id, path)]


def test_missing_passphrase_names_the_variable(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE_PRIVATE, tmp_path / "private")
    store = KeyStore(tmp_path, Passphrases(root="x"))
    with pytest.raises(SigningKeyError, match="DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE"):
        store.load(tmp_path / "private" / f"{CLI_KEY_ID}.key", "targets")


def test_wrong_passphrase_is_a_signing_key_error_without_the_secret(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE_PRIVATE, tmp_path / "private")
    store = KeyStore(tmp_path, Passphrases(targets="hunter2"))
    with pytest.raises(SigningKeyError) as caught:
        store.load(tmp_path / "private" / f"{CLI_KEY_ID}.key", "targets")
    assert "incorrect passphrase" in str(caught.value) and "hunter2" not in str(caught.value)


def test_saving_without_a_passphrase_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SigningKeyError, match="DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE"):
        KeyStore(tmp_path, Passphrases()).save(SigningKey.generate(), "root", None)
    assert not (tmp_path / "private").exists() or not any((tmp_path / "private").iterdir())
