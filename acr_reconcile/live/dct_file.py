"""The DCT inventory as a file: the evidence of what Docker Content Trust vouched for,
written before trust is disabled, and read back by a rerun once DCT is gone.

Because a rerun believes the file in place of the trust server, reading it is strict:
every field present with its type, nothing unknown, digests and times in their one form,
and each problem named with the file and the field (``FILE: entries[3].digest: ...``).
The file holds facts only (names, digests, sizes, roles, times, key ids; never a key, a
token or a passphrase), and is written through the one atomic writer, so a crash leaves
the previous file or the new one, never half of either. See docs/migrating-from-dct.md.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from acr_reconcile.errors import ConfigError
from acr_reconcile.files import write_private_atomic
from acr_reconcile.live.dct import DctInventory, InventoryEntry, InventoryProblem, ProblemKind
from acr_reconcile.redact import redact

FORMAT_VERSION = "1.0"
KIND = "acr-reconcile/dct-inventory"
MAX_BYTES = 64 * 1024 * 1024  # far beyond any registry's tag count; a bound on what we read
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_KEY_ID = re.compile(r"[0-9a-f]{64}")
_TOP = {"format_version", "kind", "registry", "login_server", "read_at", "entries", "problems"}
_ENTRY = {"repository", "tag", "role", "digest", "size", "expires", "root_key_id"}
_PROBLEM = {"repository", "tag", "role", "kind", "message"}


def default_path(registry: str, today: date, directory: Path | None = None) -> Path:
    """``dct-inventory-<registry>-<UTC date>.json`` in the working directory."""
    name = f"dct-inventory-{registry.lower()}-{today.isoformat()}.json"
    return (directory or Path.cwd()) / name


def _time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_json(inventory: DctInventory) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "kind": KIND,
        "registry": inventory.registry,
        "login_server": inventory.login_server,
        "read_at": _time(inventory.read_at),
        "entries": [
            {
                "repository": e.repository,
                "tag": e.tag,
                "role": e.role,
                "digest": e.digest,
                "size": e.size,
                "expires": _time(e.expires),
                "root_key_id": e.root_key_id,
            }
            for e in inventory.entries
        ],
        "problems": [
            {
                "repository": p.repository,
                "tag": p.tag,
                "role": p.role,
                "kind": p.kind.value,
                "message": redact(p.message),
            }
            for p in inventory.problems
        ],
    }


def write_inventory(path: Path, inventory: DctInventory) -> None:
    """Write atomically (0600); FileWriteError names the file, the old one stays."""
    text = json.dumps(to_json(inventory), indent=2, ensure_ascii=False) + "\n"
    write_private_atomic(path, text.encode("utf-8"), "the DCT inventory")


def read_inventory(path: Path) -> DctInventory:
    """The inventory in ``path``; ConfigError naming the file and field on any defect."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the DCT inventory: {error.strerror}") from None
    if len(raw) > MAX_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_BYTES} bytes; not a DCT inventory")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; not a DCT inventory") from None
    except json.JSONDecodeError as error:
        raise ConfigError(f"{path}:{error.lineno}:{error.colno}: not JSON: {error.msg}") from None
    return _Reader(path).inventory(data)


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, why: str) -> ConfigError:
        return ConfigError(f"{self.path}: {where}: {why}")

    def fields(self, value: Any, where: str, keys: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where or "top level", "must be an object")
        missing, unknown = keys - value.keys(), value.keys() - keys
        if missing:
            raise self.fail(where or "top level", f"missing {', '.join(sorted(missing))}")
        if unknown:
            raise self.fail(where or "top level", f"unknown field {sorted(unknown)[0]}")
        return value

    def text(self, value: Any, where: str, *, empty: bool = False) -> str:
        if not isinstance(value, str) or (not value and not empty):
            raise self.fail(where, "must be a non-empty string" if not empty else "a string")
        return value

    def time(self, value: Any, where: str) -> datetime:
        text = self.text(value, where)
        try:
            parsed = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            raise self.fail(where, f"{text!r} is not a UTC time YYYY-MM-DDTHH:MM:SSZ") from None
        return parsed.replace(tzinfo=UTC)

    def pattern(self, value: Any, where: str, pattern: re.Pattern[str], what: str) -> str:
        text = self.text(value, where)
        if not pattern.fullmatch(text):
            raise self.fail(where, f"{text!r} is not {what}")
        return text

    def size(self, value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(where, "must be a non-negative integer")
        return value

    def inventory(self, data: Any) -> DctInventory:
        top = self.fields(data, "", _TOP)
        version = self.text(top["format_version"], "format_version")
        if version.split(".")[0] != FORMAT_VERSION.split(".")[0]:
            raise self.fail("format_version", f"{version!r} is not supported (this tool reads 1.x)")
        if top["kind"] != KIND:
            raise self.fail("kind", f"must be {KIND!r}")
        for name in ("entries", "problems"):
            if not isinstance(top[name], list):
                raise self.fail(name, "must be a list")
        return DctInventory(
            registry=self.text(top["registry"], "registry"),
            login_server=self.text(top["login_server"], "login_server"),
            read_at=self.time(top["read_at"], "read_at"),
            entries=tuple(self.entry(e, f"entries[{i}]") for i, e in enumerate(top["entries"])),
            problems=tuple(
                self.problem(p, f"problems[{i}]") for i, p in enumerate(top["problems"])
            ),
        )

    def entry(self, value: Any, where: str) -> InventoryEntry:
        e = self.fields(value, where, _ENTRY)
        return InventoryEntry(
            repository=self.text(e["repository"], f"{where}.repository"),
            tag=self.text(e["tag"], f"{where}.tag"),
            role=self.text(e["role"], f"{where}.role"),
            digest=self.pattern(e["digest"], f"{where}.digest", _DIGEST, "a sha256 digest"),
            size=self.size(e["size"], f"{where}.size"),
            expires=self.time(e["expires"], f"{where}.expires"),
            root_key_id=self.pattern(
                e["root_key_id"], f"{where}.root_key_id", _KEY_ID, "a notary key id"
            ),
        )

    def problem(self, value: Any, where: str) -> InventoryProblem:
        p = self.fields(value, where, _PROBLEM)
        kind = self.text(p["kind"], f"{where}.kind")
        if kind not in {k.value for k in ProblemKind}:
            raise self.fail(f"{where}.kind", f"{kind!r} is not one of invalid, moved, gone")
        return InventoryProblem(
            repository=self.text(p["repository"], f"{where}.repository"),
            tag=self.text(p["tag"], f"{where}.tag", empty=True),
            role=self.text(p["role"], f"{where}.role", empty=True),
            kind=ProblemKind(kind),
            message=self.text(p["message"], f"{where}.message"),
        )


def find_inventory(
    registry: str, login_server: str, explicit: str | None
) -> tuple[Path, DctInventory] | None:
    """The inventory file a rerun finishes a migration from, once trust is disabled:
    ``--dct-inventory FILE`` when given (and about this registry), else the newest
    ``dct-inventory-<registry>-<date>.json`` in the working directory; None when there
    is none. A file that names another registry or login server is refused: a rerun
    must never carry over what DCT vouched for in another registry."""
    if explicit:
        path = Path(explicit)
        if not path.exists():
            raise ConfigError(f"--dct-inventory {explicit}: no such file")
        inventory = read_inventory(path)
        return (path, inventory) if inventory.registry.lower() == registry.lower() else None
    found = sorted(Path.cwd().glob(f"dct-inventory-{registry.lower()}-*.json"))
    if not found:
        return None
    path = found[-1]  # the names end in an ISO date: the last is the newest
    inventory = read_inventory(path)
    if inventory.registry.lower() != registry.lower():
        raise ConfigError(f"{path}: registry: {inventory.registry!r} is not {registry!r}")
    if login_server and inventory.login_server.lower() != login_server.lower():
        raise ConfigError(
            f"{path}: login_server: {inventory.login_server!r} is not {login_server!r}, the "
            f"login server of registry {registry}"
        )
    return path, inventory
