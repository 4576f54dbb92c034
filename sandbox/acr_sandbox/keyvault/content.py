"""What a vault holds: keys, secrets and certificates, every version, in the vault's key
store, one 0600 JSON file per vault (``state_dir/keyvault/<content id>.json``).

Private keys live only there (never in ``state.json`` or a log). A file is rewritten
atomically on every change (creates are rare; signing changes nothing), so a vault's
content survives a restart. A vault created again under a purged name gets a new content
id and so starts empty, as in Azure.
"""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import Any

from acr_sandbox.certs import write_private
from acr_sandbox.keyvault import crypto

Json = dict[str, Any]
COLLECTIONS = ("keys", "secrets", "certificates")


def new_version() -> str:
    return secrets.token_hex(16)


def now() -> int:
    return int(time.time())


class VaultContent:
    """One vault's objects; ``save()`` after each change."""

    def __init__(self, path: Path, data: Json) -> None:
        self.path = path
        self.data = data
        for collection in COLLECTIONS:
            data.setdefault(collection, {})
        self._keys: dict[tuple[str, str], crypto.PrivateKey] = {}

    def save(self) -> None:
        write_private(self.path, json.dumps(self.data, separators=(",", ":")).encode())

    def item(self, collection: str, name: str) -> Json | None:
        found: Json | None = self.data[collection].get(name.lower())
        return found

    def version(self, collection: str, name: str, version: str) -> tuple[str, Json] | None:
        """(version id, record); an empty version means the latest."""
        item = self.item(collection, name)
        if item is None:
            return None
        version = version.lower() or (item["order"][-1] if item["order"] else "")
        record = item["versions"].get(version)
        return (version, record) if record is not None else None

    def add_version(self, collection: str, name: str, record: Json, version: str = "") -> str:
        item = self.data[collection].setdefault(
            name.lower(), {"name": name, "versions": {}, "order": []}
        )
        version = version or new_version()
        item["versions"][version] = record
        item["order"].append(version)
        return version

    def private_key(self, name: str, version: str, record: Json) -> crypto.PrivateKey:
        """The key object, parsed once per version (signing is the hot path)."""
        cache_key = (name.lower(), version)
        key = self._keys.get(cache_key)
        if key is None:
            key = self._keys[cache_key] = crypto.from_pem(record["pem"])
        return key


class ContentStore:
    """Every vault's content, loaded on first use."""

    def __init__(self, state_dir: Path) -> None:
        self.root = state_dir / "keyvault"
        self._open: dict[str, VaultContent] = {}

    def of(self, content_id: str) -> VaultContent:
        content = self._open.get(content_id)
        if content is None:
            path = self.root / f"{content_id}.json"
            data: Json = json.loads(path.read_text()) if path.exists() else {}
            content = self._open[content_id] = VaultContent(path, data)
        return content

    def drop(self, content_id: str) -> None:
        self._open.pop(content_id, None)
        (self.root / f"{content_id}.json").unlink(missing_ok=True)

    def prune(self, keep: set[str]) -> None:
        """Delete key stores of vaults that no longer exist (after a reset)."""
        if not self.root.exists():
            return
        for path in self.root.glob("*.json"):
            if path.stem not in keep:
                self._open.pop(path.stem, None)
                path.unlink(missing_ok=True)
