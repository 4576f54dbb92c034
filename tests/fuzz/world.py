"""A complete, valid Notary repository made in-process (keys, root with a ``CN=<GUN>``
certificate, targets with a ``targets/releases`` delegation, snapshot, timestamp), rebuilt
on demand with one role's ``signed`` part changed and then re-signed and re-hashed up the
chain, so that a mutation reaches the parser behind every signature and checksum check."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from acr_reconcile.trust.crypto import PublicKey, SigningKey, root_certificate_key
from acr_reconcile.trust.tuf import (
    RELEASES,
    DelegatedRole,
    FileMeta,
    Role,
    Root,
    Snapshot,
    Targets,
    sign,
)

GUN = "fuzz.example.com/app"
NOW = datetime(2026, 11, 25, tzinfo=UTC)
ROLES = ("root", "targets", RELEASES, "snapshot", "timestamp")
Mutation = Callable[[str, dict[str, Any]], dict[str, Any]]
_YEAR = timedelta(days=365)


def _unchanged(_role: str, signed: dict[str, Any]) -> dict[str, Any]:
    return signed


@dataclass(frozen=True)
class World:
    """Private keys of every role and the public form each is listed under."""

    root_key: SigningKey
    root_cert: PublicKey
    targets_key: SigningKey
    releases_key: SigningKey
    snapshot_key: SigningKey
    timestamp_key: SigningKey

    def signer(self, role: str) -> tuple[SigningKey, str]:
        if role == "root":
            return self.root_key, self.root_cert.key_id
        key = {
            "targets": self.targets_key,
            RELEASES: self.releases_key,
            "snapshot": self.snapshot_key,
            "timestamp": self.timestamp_key,
        }[role]
        return key, key.key_id

    def files(
        self, mutate: Mutation = _unchanged, replace: Mapping[str, bytes] | None = None
    ) -> dict[str, bytes]:
        """Every role file as a server holds it. ``mutate`` may change any ``signed`` part
        before it is signed, ``replace`` swaps a role's whole file; either way the parents
        list the new file's hashes and are signed again."""
        replace = replace or {}
        files: dict[str, bytes] = {}
        for role in ROLES[:3]:
            files[role] = replace.get(role) or self._signed_file(role, self._signed(role), mutate)
        for role, kind, listed in (
            ("snapshot", "Snapshot", ("root", "targets", RELEASES)),
            ("timestamp", "Timestamp", ("snapshot",)),
        ):
            signed = self._listing(kind, files, listed)
            files[role] = replace.get(role) or self._signed_file(role, signed, mutate)
        return files

    def _signed_file(self, role: str, signed: dict[str, Any], mutate: Mutation) -> bytes:
        changed = mutate(role, signed)
        try:
            return sign(changed, [self.signer(role)])
        except (TypeError, ValueError, RecursionError):  # floats, lone surrogates, too deep
            return json.dumps({"signed": changed, "signatures": []}).encode()

    def _signed(self, role: str) -> dict[str, Any]:
        if role == "root":
            return self.root().to_json()
        if role == "targets":
            releases = DelegatedRole((self.releases_key.key_id,), 1, RELEASES, ("",))
            return Targets(
                1,
                NOW + 3 * _YEAR,
                {"v1": _target(b"v1")},
                {self.releases_key.key_id: self.releases_key.public},
                (releases,),
            ).to_json()
        return Targets(1, NOW + 3 * _YEAR, {"v2": _target(b"v2")}).to_json()

    def _listing(
        self, kind: str, files: dict[str, bytes], roles: tuple[str, ...]
    ) -> dict[str, Any]:
        expires = NOW + (timedelta(days=14) if kind == "Timestamp" else 3 * _YEAR)
        meta = {role: FileMeta.of(files[role]) for role in roles}
        return Snapshot(1, expires, meta, kind).to_json()

    def root(self) -> Root:
        keys = {self.root_cert.key_id: self.root_cert}
        roles = {"root": Role((self.root_cert.key_id,), 1)}
        for role in ("targets", "snapshot", "timestamp"):
            key, key_id = self.signer(role)
            keys[key_id] = key.public
            roles[role] = Role((key_id,), 1)
        return Root(1, NOW + 10 * _YEAR, keys, roles)


def _target(content: bytes) -> FileMeta:
    return FileMeta(len(content), {"sha256": hashlib.sha256(content).digest()})


@cache
def world() -> World:
    """One world per process: key generation is the slow part."""
    root_key = SigningKey.generate()
    return World(
        root_key,
        root_certificate_key(root_key, GUN, NOW),
        SigningKey.generate(),
        SigningKey.generate(),
        SigningKey.generate(),
        SigningKey.generate(),
    )
