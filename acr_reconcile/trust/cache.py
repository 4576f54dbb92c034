"""The local trust cache, in docker's layout (``<trust dir>/tuf/<GUN>/metadata/<role>.json``):
it pins the first root seen and the newest versions trusted, so a server cannot roll back."""

from __future__ import annotations

import json
from pathlib import Path

from acr_reconcile.files import make_private_dirs, write_private_atomic


class TrustCache:
    def __init__(self, trust_dir: Path, gun: str) -> None:
        self.base = trust_dir / "tuf" / gun / "metadata"
        self.trust_dir = trust_dir

    def load(self, role: str) -> bytes | None:
        try:
            return (self.base / f"{role}.json").read_bytes()
        except OSError:
            return None

    def version(self, role: str) -> int | None:
        raw = self.load(role)
        if raw is None:
            return None
        try:
            version = json.loads(raw)["signed"]["version"]
        except (ValueError, KeyError, TypeError, RecursionError):
            return None
        return version if isinstance(version, int) else None

    def save(self, role: str, raw: bytes) -> None:
        """Atomic write (0600 files, 0700 directories) of verified bytes."""
        path = self.base / f"{role}.json"
        make_private_dirs(self.trust_dir, path.parent, "the trust cache directory")
        write_private_atomic(path, raw, "the trust cache")
