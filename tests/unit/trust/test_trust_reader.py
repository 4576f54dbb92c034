"""The read path on trust data Go produced, served from memory in the order and by the
checksums the notary client uses; the cache pins what was trusted."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from acr_reconcile.errors import TrustDataInvalid
from acr_reconcile.trust.cache import TrustCache
from acr_reconcile.trust.crypto import SigningKey, root_certificate_key
from acr_reconcile.trust.reader import fetch_trusted
from acr_reconcile.trust.tuf import Role, Root, parse_envelope, parse_root, sign

METADATA = Path(__file__).parent / "fixtures" / "metadata"
GUN = "example.com/app"
NOW = datetime(2026, 11, 25, tzinfo=UTC)  # the fixtures' timestamp is valid until 2026-12-08


class FixtureServer:
    """Serves files like notary-server: by role name, or by role and sha256 checksum."""

    def __init__(self) -> None:
        self.files = {r: (METADATA / f"{r}.json").read_bytes() for r in _ROLES}
        self.asked: list[str] = []

    def get_meta(
        self, gun: str, role: str, checksum: str | None = None, length: int | None = None
    ) -> bytes | None:
        assert gun == GUN
        self.asked.append(f"{role}.{checksum[:6]}" if checksum else role)
        raw = self.files.get(role)
        if raw is not None and checksum and hashlib.sha256(raw).hexdigest() != checksum:
            return None
        return raw


_ROLES = ("root", "targets", "snapshot", "timestamp")


def test_verified_read_follows_the_notary_order_and_fills_the_cache(tmp_path: Path) -> None:
    server = FixtureServer()
    repo = fetch_trusted(server, TrustCache(tmp_path, GUN), GUN, NOW)  # type: ignore[arg-type]

    assert repo is not None
    assert repo.targets["targets"].targets["v1"].length == 123
    assert [re.sub(r"\..*", ".<sha>", a) for a in server.asked] == [
        "root",
        "timestamp",
        "snapshot.<sha>",
        "targets.<sha>",
    ]
    for role in _ROLES:
        cached = tmp_path / "tuf" / GUN / "metadata" / f"{role}.json"
        assert cached.read_bytes() == server.files[role]


def test_no_root_on_the_server_means_no_trust_data(tmp_path: Path) -> None:
    server = FixtureServer()
    del server.files["root"]
    assert fetch_trusted(server, TrustCache(tmp_path, GUN), GUN, NOW) is None  # type: ignore[arg-type]


def test_a_snapshot_missing_at_its_checksum_is_invalid(tmp_path: Path) -> None:
    server = FixtureServer()
    server.files["snapshot"] += b" "
    with pytest.raises(TrustDataInvalid, match="snapshot with the listed checksum is missing"):
        fetch_trusted(server, TrustCache(tmp_path, GUN), GUN, NOW)  # type: ignore[arg-type]


def test_versions_older_than_the_cache_are_a_rollback(tmp_path: Path) -> None:
    cache = TrustCache(tmp_path, GUN)
    newer = json.loads((METADATA / "targets.json").read_bytes())
    newer["signed"]["version"] = 7
    cache.save("targets", json.dumps(newer).encode())
    with pytest.raises(TrustDataInvalid, match="rollback of targets from v7 to v2"):
        fetch_trusted(FixtureServer(), cache, GUN, NOW)  # type: ignore[arg-type]


def test_expiry_uses_the_given_clock(tmp_path: Path) -> None:
    later = datetime(2026, 12, 9, tzinfo=UTC)
    with pytest.raises(TrustDataInvalid, match="expired timestamp"):
        fetch_trusted(FixtureServer(), TrustCache(tmp_path, GUN), GUN, later)  # type: ignore[arg-type]


def test_a_changed_root_with_the_same_version_is_refused(tmp_path: Path) -> None:
    cache = TrustCache(tmp_path, GUN)
    cache.save("root", (METADATA / "root.json").read_bytes())
    pinned = parse_root(parse_envelope(cache.load("root") or b"").signed)
    key = SigningKey.generate()
    cert = root_certificate_key(key, GUN, NOW)
    swapped = Root(
        1,
        pinned.expires,
        {**pinned.keys, cert.key_id: cert},
        {**pinned.roles, "root": Role((cert.key_id,), 1)},
    )
    server = FixtureServer()
    server.files["root"] = sign(swapped.to_json(), [(key, cert.key_id)])
    with pytest.raises(TrustDataInvalid, match="changed without a new version") as raised:
        fetch_trusted(server, cache, GUN, NOW)  # type: ignore[arg-type]
    # what happened, and the exact remedy for a reset that was meant
    message = str(raised.value)
    assert f"root key {cert.key_id[:12]}" in message and "pinned on first use" in message
    assert "a sandbox reset, a registry deleted and re-created" in message
    assert f"rm -r {cache.base.parent}" in message and "run plan again" in message
