"""The inventory file: written atomically and 0600, read back equal, refused strictly."""

from __future__ import annotations

import json
import stat
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from acr_reconcile.errors import ConfigError
from acr_reconcile.live.dct import DctInventory, InventoryEntry, InventoryProblem, ProblemKind
from acr_reconcile.live.dct_file import default_path, read_inventory, to_json, write_inventory
from acr_reconcile.redact import remember

A = "sha256:" + "a" * 64
ROOT = "1" * 64
INVENTORY = DctInventory(
    "registrydavid",
    "registrydavid.azurecr.io",
    datetime(2026, 12, 1, 11, 0, 5, tzinfo=UTC),
    (
        InventoryEntry(
            "hello-world", "v1", "targets/releases", A, 527, datetime(2029, 1, 1, tzinfo=UTC), ROOT
        ),
    ),
    (InventoryProblem("app", "v2", "targets", ProblemKind.MOVED, "app:v2 moved"),),
)


def test_written_file_reads_back_equal_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "inv.json"
    write_inventory(path, INVENTORY)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_inventory(path) == INVENTORY
    data = json.loads(path.read_text())
    assert data["format_version"] == "1.0"
    assert data["read_at"] == "2026-12-01T11:00:05Z"
    assert data["entries"][0] == {
        "repository": "hello-world",
        "tag": "v1",
        "role": "targets/releases",
        "digest": A,
        "size": 527,
        "expires": "2029-01-01T00:00:00Z",
        "root_key_id": ROOT,
    }


def test_a_secret_the_run_holds_never_reaches_the_file(tmp_path: Path) -> None:
    secret = "s3cr3t-passphrase-value"
    remember(secret)
    leaky = InventoryProblem("app", "", "", ProblemKind.INVALID, f"server said {secret}")
    path = tmp_path / "inv.json"
    write_inventory(path, DctInventory("r", "r.io", INVENTORY.read_at, (), (leaky,)))
    assert secret not in path.read_text()


def test_default_name_carries_registry_and_utc_date(tmp_path: Path) -> None:
    path = default_path("RegistryDavid", date(2026, 12, 1), tmp_path)
    assert path == tmp_path / "dct-inventory-registrydavid-2026-12-01.json"


def _mutate(data: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    target: Any = data
    parts = dotted.split(".")
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is KeyError:
        del target[parts[-1]]
    else:
        target[parts[-1]] = value
    return data


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("format_version", "2.0", "format_version: '2.0' is not supported"),
        ("kind", "other", "kind: must be"),
        ("entries.0.digest", "sha256:abc", "entries[0].digest: 'sha256:abc' is not a sha256"),
        ("entries.0.size", -1, "entries[0].size: must be a non-negative integer"),
        ("entries.0.size", True, "entries[0].size: must be a non-negative integer"),
        ("entries.0.expires", "2029-01-01", "entries[0].expires: '2029-01-01' is not a UTC"),
        ("entries.0.root_key_id", "xyz", "entries[0].root_key_id: 'xyz' is not a notary key"),
        ("entries.0.tag", "", "entries[0].tag: must be a non-empty string"),
        ("entries.0.role", KeyError, "entries[0]: missing role"),
        ("entries.0.extra", 1, "entries[0]: unknown field extra"),
        ("problems.0.kind", "fine", "problems[0].kind: 'fine' is not one of"),
        ("entries", {}, "entries: must be a list"),
        ("read_at", 5, "read_at: must be a non-empty string"),
    ],
)
def test_defects_are_named_with_file_and_field(
    tmp_path: Path, field: str, value: Any, message: str
) -> None:
    path = tmp_path / "inv.json"
    path.write_text(json.dumps(_mutate(to_json(INVENTORY), field, value)))
    with pytest.raises(ConfigError) as raised:
        read_inventory(path)
    assert str(raised.value) == f"{path}: {message}" or str(raised.value).startswith(
        f"{path}: {message}"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"format_version": ', ":1:20: not JSON"),
        (b"\xff\xfe", ": not UTF-8 text"),
        (b"[]", ": top level: must be an object"),
    ],
)
def test_a_file_that_is_not_an_inventory_is_refused(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "inv.json"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match="^" + str(path).replace(".", r"\.") + message):
        read_inventory(path)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the DCT inventory"):
        read_inventory(tmp_path / "absent.json")


def test_a_rerun_finds_the_newest_inventory_of_its_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    from acr_reconcile.live.dct_file import find_inventory

    monkeypatch.chdir(tmp_path)
    server = "registrydavid.azurecr.io"
    assert find_inventory("registrydavid", server, None) is None
    older = replace(INVENTORY, entries=())
    write_inventory(default_path("registrydavid", date(2026, 11, 30), tmp_path), older)
    write_inventory(default_path("registrydavid", date(2026, 12, 1), tmp_path), INVENTORY)
    found = find_inventory("RegistryDavid", server, None)
    assert found is not None and found[0].name.endswith("2026-12-01.json")
    assert found[1] == INVENTORY
    with pytest.raises(ConfigError, match="login_server"):
        find_inventory("registrydavid", "elsewhere.azurecr.io", None)


def test_an_inventory_of_another_registry_is_never_believed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    from acr_reconcile.live.dct_file import find_inventory

    other = tmp_path / "dct-inventory-registrydavid-2026-12-01.json"
    write_inventory(other, replace(INVENTORY, registry="someoneelse"))
    assert find_inventory("registrydavid", "", str(other)) is None  # --dct-inventory: not ours
    with pytest.raises(ConfigError, match="no such file"):
        find_inventory("registrydavid", "", str(tmp_path / "missing.json"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="registry: 'someoneelse'"):
        find_inventory("registrydavid", "", None)
