"""Tampered trust data is an error naming what failed, never "unsigned": served through a
rewriting HTTPS proxy in front of the real notary-server, verified by the real code."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from trust_doubles import TamperProxy
from trust_servers import ClientFactory, NotaryServer, Pki

from acr_reconcile.errors import TrustDataInvalid
from acr_reconcile.trust.crypto import SigningKey, root_certificate_key
from acr_reconcile.trust.tuf import Role, Root, envelope_bytes, parse_envelope, parse_root, sign

DIGEST = hashlib.sha256(b"manifest").hexdigest()


@pytest.fixture
def proxy(notary_server: NotaryServer, pki: Pki) -> Iterator[TamperProxy]:
    tamper = TamperProxy(notary_server.url, pki)
    tamper.start()
    yield tamper
    tamper.stop()


def _resign_corrupted(body: bytes) -> bytes:
    env = json.loads(body)
    sig = bytearray(base64.b64decode(env["signatures"][0]["sig"]))
    sig[5] ^= 0x01
    env["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
    return envelope_bytes(env["signed"], env["signatures"])


def _when(fragment: str, change: Callable[[bytes], bytes]) -> Callable[[str, bytes], bytes]:
    return lambda path, body: change(body) if fragment in path else body


def test_changed_target_hash_is_detected(
    make_client: ClientFactory, proxy: TamperProxy, gun: str, tmp_path: Path
) -> None:
    make_client(tmp_path / "signer").publish(gun, add={"v1": (DIGEST, 10)})
    forged = base64.b64encode(hashlib.sha256(b"evil").digest())
    original = base64.b64encode(bytes.fromhex(DIGEST))
    proxy.rewrite = _when("/_trust/tuf/targets.", lambda b: b.replace(original, forged))

    with pytest.raises(TrustDataInvalid, match=f"{gun}: hash mismatch of targets"):
        make_client(tmp_path / "reader", server_url=proxy.url).read(gun)


def test_bad_signature_is_detected(
    make_client: ClientFactory, proxy: TamperProxy, gun: str, tmp_path: Path
) -> None:
    make_client(tmp_path / "signer").publish(gun, add={"v1": (DIGEST, 10)})
    proxy.rewrite = _when("/_trust/tuf/timestamp.json", _resign_corrupted)

    with pytest.raises(TrustDataInvalid, match="bad signature on timestamp: 0 valid"):
        make_client(tmp_path / "reader", server_url=proxy.url).read(gun)


def test_expired_timestamp_is_detected(
    make_client: ClientFactory, gun: str, tmp_path: Path
) -> None:
    make_client(tmp_path / "signer").publish(gun, add={"v1": (DIGEST, 10)})
    later = make_client(tmp_path / "reader", now=lambda: datetime.now(UTC) + timedelta(days=15))

    with pytest.raises(TrustDataInvalid, match=f"{gun}: expired timestamp"):
        later.read(gun)


def test_older_version_served_is_a_rollback(
    make_client: ClientFactory, proxy: TamperProxy, gun: str, tmp_path: Path
) -> None:
    signer = make_client(tmp_path / "signer")
    signer.publish(gun, add={"v1": (DIGEST, 10)})
    seen: dict[str, bytes] = {}
    proxy.rewrite = lambda path, body: seen.setdefault(path, body) and body
    reader = make_client(tmp_path / "reader", server_url=proxy.url)
    reader.read(gun)
    old_timestamp = next(b for p, b in seen.items() if p.endswith("/timestamp.json"))
    signer.publish(gun, add={"v2": (DIGEST, 20)})
    assert set(reader.read(gun).targets) == {"v1", "v2"}  # the cache now trusts v2

    proxy.rewrite = _when("/timestamp.json", lambda _: old_timestamp)
    with pytest.raises(TrustDataInvalid, match=f"{gun}: rollback of timestamp from v2 to v1"):
        reader.read(gun)


def test_root_rotation_without_the_old_root_signature_is_refused(
    make_client: ClientFactory, proxy: TamperProxy, gun: str, tmp_path: Path
) -> None:
    make_client(tmp_path / "signer").publish(gun, add={"v1": (DIGEST, 10)})
    reader = make_client(tmp_path / "reader", server_url=proxy.url)
    reader.read(gun)  # pins root v1
    pinned = parse_root(parse_envelope(_cached_root(tmp_path / "reader", gun)).signed)

    attacker = SigningKey.generate()
    cert = root_certificate_key(attacker, gun, datetime.now(UTC))
    keys = {**pinned.keys, cert.key_id: cert}
    roles = {**pinned.roles, "root": Role((cert.key_id,), 1)}
    forged = Root(2, pinned.expires, keys, roles)
    forged_bytes = sign(forged.to_json(), [(attacker, cert.key_id)])
    proxy.rewrite = _when("/_trust/tuf/root.json", lambda _: forged_bytes)

    with pytest.raises(TrustDataInvalid, match="root rotated from v1 to v2 without"):
        reader.read(gun)


def test_a_root_for_another_repository_is_refused_on_first_use(
    make_client: ClientFactory, proxy: TamperProxy, gun: str, tmp_path: Path
) -> None:
    signer = make_client(tmp_path / "signer")
    signer.publish(gun, add={"v1": (DIGEST, 10)})
    other = gun + "-other"
    signer.publish(other, add={"v1": (DIGEST, 10)})
    other_root = _cached_root(tmp_path / "signer", other)
    proxy.rewrite = _when(f"/v2/{gun}/_trust/tuf/root.json", lambda _: other_root)

    with pytest.raises(TrustDataInvalid, match=r"root certificate .* is for"):
        make_client(tmp_path / "reader", server_url=proxy.url).read(gun)


def _cached_root(trust_dir: Path, gun: str) -> bytes:
    return (trust_dir / "tuf" / gun / "metadata" / "root.json").read_bytes()
