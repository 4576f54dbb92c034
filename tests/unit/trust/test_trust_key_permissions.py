"""The key store trusts only what the user alone could have put there: a trust directory,
``private/`` directory or key file owned by someone else or writable by group or others is
refused (as OpenSSH and GnuPG refuse theirs), and an unencrypted root key is warned about.

"Another local user" is played by ``os.chown`` to an unused uid, which is what such a
user's file looks like; the tests run as root in CI, as the hint for them says.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from acr_reconcile.errors import SigningKeyError, TrustDataInvalid
from acr_reconcile.live.images import DataPlane
from acr_reconcile.trust.cache import TrustCache
from acr_reconcile.trust.crypto import SigningKey
from acr_reconcile.trust.keyfile import _pkcs8, format_pem
from acr_reconcile.trust.keys import KeyStore, Passphrases

OTHER_UID = 4242
PASSPHRASES = Passphrases(root="root passphrase", targets="targets passphrase")


def _plant_unencrypted_root(private: Path) -> SigningKey:
    """What an attacker without our passphrase plants: a root key that opens without one."""
    key = SigningKey.generate()
    text = format_pem("PRIVATE KEY", {"role": "root"}, _pkcs8(key))
    (private / f"{key.key_id}.key").write_text(text)
    return key


def _own_store(tmp_path: Path) -> tuple[KeyStore, Path]:
    store = KeyStore(tmp_path / "trust", PASSPHRASES)
    store.save(SigningKey.generate(), "root", None)
    return store, tmp_path / "trust" / "private"


def test_a_root_key_planted_in_a_world_writable_trust_dir_is_refused(tmp_path: Path) -> None:
    """The reproduction: another user made a 0777 trust dir and left a root key in it."""
    trust = tmp_path / "docker" / "trust"
    private = trust / "private"
    private.mkdir(parents=True)
    _plant_unencrypted_root(private)
    for path in (trust, private, *private.iterdir()):
        os.chown(path, OTHER_UID, OTHER_UID)
        path.chmod(0o777 if path.is_dir() else 0o666)
    store = KeyStore(trust, PASSPHRASES)
    with pytest.raises(SigningKeyError, match=rf"{trust}: the trust directory belongs to uid 4242"):
        store.root_entries()
    with pytest.raises(SigningKeyError, match="belongs to uid 4242"):
        store.save(SigningKey.generate(), "root", None)
    plane = DataPlane(None, True, {"DOCKER_CONFIG": str(tmp_path / "docker")})
    try:
        with pytest.raises(SigningKeyError, match="refusing to use it"):
            plane.readiness()  # what plan asks before it plans any signing
    finally:
        plane.close()


@pytest.mark.parametrize("which", ["trust", "private"])
def test_a_group_or_world_writable_directory_of_ours_is_refused(tmp_path: Path, which: str) -> None:
    store, private = _own_store(tmp_path)
    loose = private if which == "private" else private.parent
    loose.chmod(0o777)
    with pytest.raises(SigningKeyError, match=r"writable by group or others \(mode 777\)"):
        store.entries()
    loose.chmod(0o770)
    with pytest.raises(SigningKeyError, match=f"chmod go-w {loose}"):
        store.entries()


def test_a_key_file_of_another_user_is_refused(tmp_path: Path) -> None:
    store, private = _own_store(tmp_path)
    planted = private / f"{_plant_unencrypted_root(private).key_id}.key"
    planted.chmod(0o600)
    os.chown(planted, OTHER_UID, OTHER_UID)
    with pytest.raises(SigningKeyError, match=rf"{planted}: the key file belongs to uid 4242"):
        store.root_entries()
    with pytest.raises(SigningKeyError, match="belongs to uid 4242"):
        store.load(planted, "root")


def test_a_key_file_others_can_write_is_refused(tmp_path: Path) -> None:
    store, private = _own_store(tmp_path)
    (key_file,) = private.glob("*.key")
    key_file.chmod(0o622)
    with pytest.raises(SigningKeyError, match="the key file is writable by group or others"):
        store.load(key_file, "root")


def test_the_users_own_store_with_docker_modes_is_used(tmp_path: Path) -> None:
    store, private = _own_store(tmp_path)
    private.parent.chmod(0o755)  # docker creates ~/.docker/trust 0755
    (entry,) = store.root_entries()
    assert entry.encrypted
    assert KeyStore(private.parent, PASSPHRASES).load(entry.path, "root").key_id == entry.key_id


def test_an_unencrypted_root_key_is_warned_about(tmp_path: Path) -> None:
    private = tmp_path / "docker" / "trust" / "private"
    private.mkdir(parents=True, mode=0o700)
    private.parent.chmod(0o700)
    key = _plant_unencrypted_root(private)
    (private / f"{key.key_id}.key").chmod(0o600)
    plane = DataPlane(None, True, {"DOCKER_CONFIG": str(tmp_path / "docker")})
    try:
        readiness = plane.readiness()
    finally:
        plane.close()
    assert readiness.root_key_available and readiness.root_key_problem is None
    assert readiness.root_key_warning is not None
    assert f"the root key {private / key.key_id}.key is not encrypted" in readiness.root_key_warning


def test_a_pinned_root_under_a_directory_others_can_write_is_refused(tmp_path: Path) -> None:
    """The trust cache pins roots: another user's pin would make their root ours."""
    cache = TrustCache(tmp_path / "trust", "registry.test/hello")
    cache.save("root", b"{}")
    (tmp_path / "trust" / "tuf").chmod(0o777)
    with pytest.raises(TrustDataInvalid, match="the trust cache is writable by group or others"):
        cache.load("root")
    (tmp_path / "trust" / "tuf").chmod(0o700)
    os.chown(tmp_path / "trust", OTHER_UID, OTHER_UID)
    with pytest.raises(TrustDataInvalid, match="belongs to uid 4242"):
        cache.save("root", b"{}")
