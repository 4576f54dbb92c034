"""Interop with the official notary CLI, both directions, on a real notary-server."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from trust_servers import ClientFactory, NotaryCli


def digest(n: int) -> str:
    return hashlib.sha256(f"manifest {n}".encode()).hexdigest()


def test_cli_lists_what_we_publish_into_a_new_repository(
    make_client: ClientFactory, make_cli: Callable[[Path], NotaryCli], gun: str, tmp_path: Path
) -> None:
    client = make_client(tmp_path / "ours")
    trust = client.publish(gun, add={"v1": (digest(1), 527), "v2": (digest(2), 1024)})

    assert trust.exists and set(trust.targets) == {"v1", "v2"}
    assert trust.signable_roles == ("root", "targets")
    listed = make_cli(tmp_path / "fresh").list(gun)  # an empty trust dir: TOFU on our root
    assert listed == {"v1": (digest(1), 527, "targets"), "v2": (digest(2), 1024, "targets")}

    client.publish(gun, add={"v2": (digest(22), 99)}, remove=["v1"])
    assert make_cli(tmp_path / "fresh").list(gun) == {"v2": (digest(22), 99, "targets")}


def test_we_read_and_extend_a_cli_repository_with_a_client_held_snapshot_key(
    make_client: ClientFactory, make_cli: Callable[[Path], NotaryCli], gun: str, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    cli = make_cli(shared)
    cli.run("init", gun)
    cli.run("addhash", gun, "cli-tag", "321", "--sha256", digest(7))
    cli.run("publish", gun)

    reader = make_client(tmp_path / "reader").read(gun)
    assert reader.targets["cli-tag"].sha256_hex == digest(7)
    assert reader.targets["cli-tag"].length == 321 and reader.signable_roles == ()

    ours = make_client(shared)  # the CLI's keys, snapshot key included
    assert ours.check_signing(gun) == "targets"
    after = ours.publish(gun, add={"py-tag": (digest(8), 654)})
    assert set(after.signable_roles) >= {"root", "targets", "snapshot"}
    listed = make_cli(tmp_path / "fresh").list(gun)
    assert listed == {"cli-tag": (digest(7), 321, "targets"), "py-tag": (digest(8), 654, "targets")}


def test_docker_style_releases_delegation_with_server_snapshot(
    make_client: ClientFactory, make_cli: Callable[[Path], NotaryCli], gun: str, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    cli = make_cli(shared)
    cli.run("init", gun)
    cli.run("key", "rotate", gun, "snapshot", "-r")
    key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "rel.pub").write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    (tmp_path / "rel.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cli.run("delegation", "add", gun, "targets/releases", str(tmp_path / "rel.pub"), "--all-paths")
    cli.run("key", "import", str(tmp_path / "rel.key"), "-r", "targets/releases")
    cli.run("addhash", gun, "cli-rel", "11", "--sha256", digest(11), "-r", "targets/releases")
    cli.run("publish", gun)

    read = make_client(tmp_path / "reader").read(gun)
    assert read.targets["cli-rel"].role == "targets/releases"
    assert read.targets["cli-rel"].sha256_hex == digest(11)

    ours = make_client(shared)
    assert ours.check_signing(gun) == "targets/releases"
    after = ours.publish(gun, add={"py-rel": (digest(12), 12)})
    assert after.targets["py-rel"].role == "targets/releases"
    assert "snapshot" not in after.signable_roles  # the server holds it now
    listed = make_cli(tmp_path / "fresh").list(gun)
    assert listed["py-rel"] == (digest(12), 12, "targets/releases")
    assert listed["cli-rel"] == (digest(11), 11, "targets/releases")


def test_cli_signs_with_keys_we_wrote(
    make_client: ClientFactory, make_cli: Callable[[Path], NotaryCli], gun: str, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    make_client(shared).publish(gun, add={"ours": (digest(1), 1)})
    cli = make_cli(shared)
    rows = [line.split() for line in cli.run("key", "list").stdout.splitlines()[3:] if line]
    files = {path.stem for path in (shared / "private").glob("*.key")}
    assert sorted(r[0] for r in rows) == ["root", "targets"]  # our role headers
    assert {r[-2] for r in rows} == files and len(files) == 2  # our file names = key IDs
    cli.run("addhash", gun, "theirs", "2", "--sha256", digest(2))
    cli.run("publish", gun)  # decrypts our targets key with NOTARY_TARGETS_PASSPHRASE

    trust = make_client(tmp_path / "reader").read(gun)
    assert {t: (s.sha256_hex, s.length) for t, s in trust.targets.items()} == {
        "ours": (digest(1), 1),
        "theirs": (digest(2), 2),
    }


def test_a_root_rotated_by_the_cli_is_accepted_after_pinning(
    make_client: ClientFactory, make_cli: Callable[[Path], NotaryCli], gun: str, tmp_path: Path
) -> None:
    cli = make_cli(tmp_path / "shared")
    cli.run("init", gun)
    cli.run("addhash", gun, "v1", "1", "--sha256", digest(1))
    cli.run("publish", gun)
    reader = make_client(tmp_path / "reader")
    before = reader.read(gun)  # pins root v1

    for _ in range(2):  # v2 then v3: the reader must walk v1 -> 2.root.json -> v3
        cli.run("key", "rotate", gun, "root", answer="yes\n")

    after = reader.read(gun)
    assert after.root_key_id != before.root_key_id
    assert after.targets["v1"].sha256_hex == digest(1)
    pinned = (tmp_path / "reader" / "tuf" / gun / "metadata" / "root.json").read_text()
    assert '"version":3' in pinned


def test_names_go_escapes_as_html_keep_the_server_hashes_consistent(
    make_client: ClientFactory, make_cli: Callable[[Path], NotaryCli], gun: str, tmp_path: Path
) -> None:
    """The server hashes its own ``json.Marshal`` of what we upload, which escapes <, > and &."""
    client = make_client(tmp_path / "ours")
    client.publish(gun, add={"plain": (digest(1), 1)})
    client.publish(gun, add={"a<b>&c": (digest(2), 2)})  # an update: the server re-hashes it

    listed = make_cli(tmp_path / "fresh").list(gun)
    assert listed["a<b>&c"] == (digest(2), 2, "targets")
    assert set(make_client(tmp_path / "reader").read(gun).targets) == {"plain", "a<b>&c"}
