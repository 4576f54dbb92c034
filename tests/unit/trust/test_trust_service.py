"""What the planner sees of a repository: the tags docker trusts on pull (targets/releases
wins over targets), expiry warnings, and where the trust server is."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from acr_reconcile.trust.crypto import SigningKey, root_certificate_key
from acr_reconcile.trust.keys import Passphrases
from acr_reconcile.trust.reader import TrustedRepo
from acr_reconcile.trust.service import TrustClient, expiry_warnings, trust_server_url
from acr_reconcile.trust.tuf import RELEASES, FileMeta, Role, Root, Snapshot, Targets

GUN = "r.test/app"
NOW = datetime(2027, 1, 1, tzinfo=UTC)


def _meta(text: str, length: int) -> FileMeta:
    return FileMeta(length, {"sha256": hashlib.sha256(text.encode()).digest()})


def _repo(*, timestamp_days: int = 14, cert_now: datetime = NOW) -> TrustedRepo:
    key = SigningKey.generate()
    cert = root_certificate_key(key, GUN, cert_now)
    far = NOW + timedelta(days=1000)
    roles = {r: Role((cert.key_id,), 1) for r in ("root", "targets", "snapshot", "timestamp")}
    targets = {
        "targets": Targets(2, far, {"both": _meta("old", 1), "top": _meta("top", 2)}),
        RELEASES: Targets(3, far, {"both": _meta("new", 3)}),
        "targets/alice": Targets(1, far, {"alice-only": _meta("a", 4)}),
    }
    stamp = Snapshot(5, NOW + timedelta(days=timestamp_days), {}, "Timestamp")
    root = Root(1, far, {cert.key_id: cert}, roles)
    return TrustedRepo(GUN, root, stamp, Snapshot(5, far, {}), targets, {})


def test_pull_view_prefers_releases_and_ignores_other_delegations(tmp_path: Path) -> None:
    client = TrustClient(
        server_url="https://127.0.0.1:1",
        token_source=None,
        verify=True,
        trust_dir=tmp_path,
        passphrases=Passphrases(),
        now=lambda: NOW,
    )
    summary = client._summary(GUN, _repo(timestamp_days=60))
    assert {t: (s.role, s.length) for t, s in summary.targets.items()} == {
        "both": (RELEASES, 3),
        "top": ("targets", 2),
    }
    assert summary.targets["both"].sha256_hex == hashlib.sha256(b"new").hexdigest()
    assert summary.warnings == () and summary.signable_roles == ()


def test_warnings_for_what_expires_within_the_window() -> None:
    # The server re-signs its timestamp (14 days) itself: never a warning.
    assert expiry_warnings(_repo(), NOW, timedelta(days=30)) == []
    old_cert = _repo(timestamp_days=60, cert_now=NOW - timedelta(days=3640))
    warned = expiry_warnings(old_cert, NOW, timedelta(days=30))
    assert len(warned) == 1 and "root certificate" in warned[0] and "expires in" in warned[0]


def test_trust_server_follows_docker() -> None:
    assert trust_server_url("reg.azurecr.io", {}) == "https://reg.azurecr.io"
    env = {"DOCKER_CONTENT_TRUST_SERVER": "https://notary.example"}
    assert trust_server_url("reg.azurecr.io", env) == "https://notary.example"
