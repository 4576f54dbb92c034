"""Per-tag trust states the planner diffs, and signing readiness without secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from acr_reconcile.live.images import DataPlane, tag_state
from acr_reconcile.live.state import LiveRepositoryTrust, TagTrust
from acr_reconcile.registry.client import ManifestRef
from acr_reconcile.trust.crypto import SigningKey
from acr_reconcile.trust.keys import REPOSITORY_ENV, ROOT_ENV, KeyStore, Passphrases
from acr_reconcile.trust.service import RepositoryTrust, SignedTarget

HEX = "ab" * 32
SIGNED = SignedTarget("v1", HEX, 527, "targets/releases")
REPO = RepositoryTrust("r.test/app", True, {"v1": SIGNED}, "root-id", (), ())
MEDIA = "application/vnd.oci.image.manifest.v1+json"


def _manifest(digest: str | None, size: int | None) -> ManifestRef | None:
    return None if digest is None or size is None else ManifestRef(digest, size, MEDIA)


@pytest.mark.parametrize(
    ("trust", "tag", "digest", "size", "expected"),
    [
        (REPO, "v1", f"sha256:{HEX}", 527, TagTrust.SIGNED),
        (REPO, "v1", f"sha256:{'cd' * 32}", 527, TagTrust.STALE),
        (REPO, "v1", f"sha256:{HEX}", 528, TagTrust.STALE),
        (REPO, "v1", None, None, TagTrust.STALE),
        (REPO, "v2", f"sha256:{HEX}", 527, TagTrust.UNSIGNED),
        (
            RepositoryTrust("r.test/app", False, {}, None, (), ()),
            "v1",
            None,
            None,
            TagTrust.NO_TRUST_DATA,
        ),
    ],
)
def test_tag_states(
    trust: RepositoryTrust, tag: str, digest: str | None, size: int | None, expected: TagTrust
) -> None:
    live = LiveRepositoryTrust("app", trust.gun, trust.exists)
    state = tag_state("app", tag, _manifest(digest, size), (live, trust))
    assert state.trust is expected
    assert (state.digest, state.size) == (digest, size)
    signed = (state.signed_digest, state.signed_size, state.signed_role)
    if expected in (TagTrust.SIGNED, TagTrust.STALE):
        assert signed == (f"sha256:{SIGNED.sha256_hex}", SIGNED.length, SIGNED.role)
    else:
        assert signed == (None, None, None)


def test_invalid_trust_data_is_never_unsigned() -> None:
    live = LiveRepositoryTrust("app", "r.test/app", True, valid=False, error="bad signature")
    state = tag_state("app", "v1", _manifest(f"sha256:{HEX}", 527), (live, None))
    assert state.trust is TagTrust.INVALID


def _readiness(trust_dir: Path, **passphrases: str) -> DataPlane:
    env = {"DOCKER_CONFIG": str(trust_dir.parent)}
    names = {"root": ROOT_ENV[0], "targets": REPOSITORY_ENV[0]}
    env.update({names[role]: value for role, value in passphrases.items()})
    return DataPlane(credential=None, verify=True, env=env)  # type: ignore[arg-type]


def test_readiness_reports_presence_only(tmp_path: Path) -> None:
    trust_dir = tmp_path / "trust"
    plane = _readiness(trust_dir, targets="t")
    empty = plane.readiness()
    plane.close()
    assert (empty.root_key_available, empty.root_passphrase_available) == (False, False)
    assert empty.repository_passphrase_available and empty.trust_dir == str(trust_dir)
    KeyStore(trust_dir, Passphrases(root="r")).save(SigningKey.generate(), "root", None)
    plane = _readiness(trust_dir, root="r", targets="t")
    ready = plane.readiness()
    plane.close()
    assert ready.root_key_available and ready.root_passphrase_available
    assert ready.root_key_problem is None
    assert "'r'" not in repr(ready) and "'t'" not in repr(ready)
