"""Metadata as Go writes it, and the verification rules, on files the notary CLI and
notary-server produced (ECDSA raw r||s and Ed25519 signatures made by Go)."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from acr_reconcile.errors import TrustDataInvalid
from acr_reconcile.trust.canonical import encode_canonical
from acr_reconcile.trust.crypto import PublicKey, SigningKey
from acr_reconcile.trust.tuf import (
    FileMeta,
    Role,
    Targets,
    envelope_bytes,
    format_time,
    parse_envelope,
    parse_root,
    parse_snapshot,
    parse_targets,
    parse_time,
    sign,
)
from acr_reconcile.trust.verify import (
    check_expiry,
    check_meta,
    check_rollback,
    check_root_certificates,
    check_signatures,
)

METADATA = Path(__file__).parent / "fixtures" / "metadata"
GUN = "example.com/app"


def _load(role: str) -> bytes:
    return (METADATA / f"{role}.json").read_bytes()


def test_envelope_is_rebuilt_byte_for_byte() -> None:
    for role in ("root", "targets", "snapshot", "timestamp"):
        raw = _load(role)
        env = parse_envelope(raw)
        sigs = [
            {"keyid": s.keyid, "method": s.method, "sig": base64.b64encode(s.sig).decode()}
            for s in env.signatures
        ]
        assert envelope_bytes(env.signed, sigs) == raw


def test_models_write_exactly_gos_fields() -> None:
    parsers = {
        "root": parse_root,
        "targets": parse_targets,
        "snapshot": parse_snapshot,
        "timestamp": lambda s: parse_snapshot(s, "Timestamp"),
    }
    for role, parse in parsers.items():
        signed = parse_envelope(_load(role)).signed
        written = parse(signed).to_json()
        written["expires"] = signed["expires"]  # Go keeps nanoseconds; we write microseconds
        assert encode_canonical(written) == encode_canonical(signed), role


def test_empty_targets_still_carry_delegations() -> None:
    body = Targets(1, datetime(2030, 1, 1, tzinfo=UTC), {"t": FileMeta(3, {"sha256": b"x"})})
    assert body.to_json()["delegations"] == {"keys": {}, "roles": []}
    assert body.to_json()["targets"]["t"] == {"hashes": {"sha256": "eA=="}, "length": 3}


def test_times_are_written_as_go_does() -> None:
    assert format_time(datetime(2029, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2029-01-02T03:04:05Z"
    assert format_time(datetime(2029, 1, 2, 3, 4, 5, 250000, tzinfo=UTC)) == (
        "2029-01-02T03:04:05.25Z"
    )
    assert parse_time("2029-11-23T16:28:19.066832188Z") == datetime(
        2029, 11, 23, 16, 28, 19, 66832, tzinfo=UTC
    )


def test_go_signatures_verify_and_a_changed_byte_fails() -> None:
    root = parse_root(parse_envelope(_load("root")).signed)
    for role in ("root", "targets", "snapshot", "timestamp"):
        check_signatures(GUN, role, parse_envelope(_load(role)), root.keys, root.roles[role])
    tampered = parse_envelope(_load("targets").replace(b'"length":123', b'"length":124'))
    with pytest.raises(TrustDataInvalid, match="bad signature on targets: 0 valid"):
        check_signatures(GUN, "targets", tampered, root.keys, root.roles["targets"])


def test_root_certificate_must_name_the_gun() -> None:
    root = parse_root(parse_envelope(_load("root")).signed)
    when = datetime(2026, 11, 25, tzinfo=UTC)
    check_root_certificates(GUN, root.keys, root.roles["root"], when)
    with pytest.raises(
        TrustDataInvalid, match=re.escape("is for ['example.com/app'], not other/app")
    ):
        check_root_certificates("other/app", root.keys, root.roles["root"], when)
    with pytest.raises(TrustDataInvalid, match="expired or not yet valid"):
        check_root_certificates(GUN, root.keys, root.roles["root"], when + timedelta(days=3700))


def test_threshold_counts_distinct_listed_keys() -> None:
    one, two, outsider = SigningKey.generate(), SigningKey.generate(), SigningKey.generate()
    keys = {k.key_id: k.public for k in (one, two, outsider)}
    role = Role((one.key_id, two.key_id), 2)
    signed = {"_type": "Targets", "version": 1}
    twice_by_one = parse_envelope(sign(signed, [(one, one.key_id), (one, one.key_id)]))
    with pytest.raises(TrustDataInvalid, match="1 valid signature"):
        check_signatures(GUN, "targets", twice_by_one, keys, role)
    not_listed = parse_envelope(sign(signed, [(one, one.key_id), (outsider, outsider.key_id)]))
    with pytest.raises(TrustDataInvalid, match="1 valid signature"):
        check_signatures(GUN, "targets", not_listed, keys, role)
    both = parse_envelope(sign(signed, [(one, one.key_id), (two, two.key_id)]))
    check_signatures(GUN, "targets", both, keys, role)


def test_a_key_listed_under_another_id_is_not_trusted() -> None:
    real, other = SigningKey.generate(), SigningKey.generate()
    keys = {other.key_id: real.public}  # the ID does not belong to the key
    env = parse_envelope(sign({"v": 1}, [(real, other.key_id)]))
    with pytest.raises(TrustDataInvalid):
        check_signatures(GUN, "targets", env, keys, Role((other.key_id,), 1))


def test_hashes_lengths_versions_and_expiry() -> None:
    raw = _load("snapshot")
    meta = parse_snapshot(parse_envelope(_load("timestamp")).signed, "Timestamp").meta["snapshot"]
    check_meta(GUN, "snapshot", raw, meta)
    with pytest.raises(TrustDataInvalid, match="hash mismatch of snapshot: 682 bytes"):
        check_meta(GUN, "snapshot", raw[:-1], meta)
    forged = raw.replace(b"Snapshot", b"Snapshoo")
    with pytest.raises(TrustDataInvalid, match=re.escape("hash mismatch of snapshot (sha256)")):
        check_meta(GUN, "snapshot", forged, meta)
    assert FileMeta.of(raw).hashes["sha256"] == hashlib.sha256(raw).digest()
    with pytest.raises(TrustDataInvalid, match="rollback of targets from v3 to v2"):
        check_rollback(GUN, "targets", 2, 3)
    check_rollback(GUN, "targets", 3, 3)
    now = datetime(2030, 1, 1, tzinfo=UTC)
    with pytest.raises(TrustDataInvalid, match="expired timestamp"):
        check_expiry(GUN, "timestamp", now, now)


def test_public_key_ids_follow_notary() -> None:
    root = parse_root(parse_envelope(_load("root")).signed)
    for key_id, key in root.keys.items():
        assert key.key_id == key_id
    assert PublicKey.from_json(root.keys[next(iter(root.keys))].to_json()) in root.keys.values()


def test_envelope_escapes_like_go_and_still_verifies() -> None:
    key = SigningKey.generate()
    raw = sign({"_type": "Targets", "t": "a<b>&c\u2028"}, [(key, key.key_id)])
    assert b'"a\\u003cb\\u003e\\u0026c\\u2028"' in raw and b"<" not in raw
    env = parse_envelope(raw)
    assert env.signed["t"] == "a<b>&c\u2028"
    check_signatures(GUN, "targets", env, {key.key_id: key.public}, Role((key.key_id,), 1))
