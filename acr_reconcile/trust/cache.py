"""The local trust cache, in docker's layout (``<trust dir>/tuf/<GUN>/metadata/<role>.json``):
it pins the first root seen and the newest versions trusted, so a server cannot roll back.

A pin is only worth what its directory is: one another local user can write could hold
their root as ours, so the trust directory and ``tuf/`` must be the user's own and
writable by no one else (as the key store requires of ``private/``)."""

from __future__ import annotations

import json
from pathlib import Path

from acr_reconcile.errors import TrustDataInvalid
from acr_reconcile.files import make_private_dirs, unsafe_reason, write_private_atomic


class TrustCache:
    def __init__(self, trust_dir: Path, gun: str) -> None:
        self.base = trust_dir / "tuf" / gun / "metadata"
        self.trust_dir = trust_dir

    def check_directories(self) -> None:
        for path, what in (
            (self.trust_dir, "the trust directory"),
            (self.trust_dir / "tuf", "the trust cache"),
        ):
            reason = unsafe_reason(path, what)
            if reason:
                raise TrustDataInvalid(reason)

    def load(self, role: str) -> bytes | None:
        self.check_directories()
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
        self.check_directories()
        make_private_dirs(self.trust_dir, path.parent, "the trust cache directory")
        write_private_atomic(path, raw, "the trust cache")
