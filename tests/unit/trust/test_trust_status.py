"""Per-tag trust states the planner diffs, and signing readiness without secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from acr_reconcile.live.state import TagTrust
from acr_reconcile.trust.crypto import SigningKey
from acr_reconcile.trust.keys import KeyStore, Passphrases
from acr_reconcile.trust.service import RepositoryTrust, SignedTarget
from acr_reconcile.trust.status import signing_readiness, tag_trust

HEX = "ab" * 32
SIGNED = SignedTarget("v1", HEX, 527, "targets/releases")
REPO = RepositoryTrust("r.test/app", True, {"v1": SIGNED}, "root-id", (), ())


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
    state, signed = tag_trust(trust, tag, digest, size)
    assert state is expected
    assert signed == (SIGNED if expected in (TagTrust.SIGNED, TagTrust.STALE) else None)


def test_readiness_reports_presence_only(tmp_path: Path) -> None:
    empty = signing_readiness(tmp_path, Passphrases(targets="t"))
    assert (empty.root_key_available, empty.root_passphrase_available) == (False, False)
    assert empty.repository_passphrase_available and empty.trust_dir == str(tmp_path)
    KeyStore(tmp_path, Passphrases(root="r")).save(SigningKey.generate(), "root", None)
    ready = signing_readiness(tmp_path, Passphrases(root="r", targets="t"))
    assert ready.root_key_available and ready.root_passphrase_available
    assert "'r'" not in repr(ready) and "'t'" not in repr(ready)
