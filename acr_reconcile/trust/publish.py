"""Build the files of one publish: docker's initialisation of a new repository, or the
re-signed roles (and a snapshot when the client holds its key) carrying our tag changes.

Pure apart from the key store and server public keys: the caller uploads the result and,
on a version conflict, calls again on freshly read trust data, so changes merge.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from acr_reconcile.errors import SigningKeyError
from acr_reconcile.trust.crypto import PublicKey, SigningKey, root_certificate_key
from acr_reconcile.trust.keys import KeyStore
from acr_reconcile.trust.reader import TrustedRepo
from acr_reconcile.trust.tuf import RELEASES, FileMeta, Role, Root, Snapshot, Targets, sign

ROOT_EXPIRY = timedelta(days=365 * 10)
TARGETS_EXPIRY = timedelta(days=365 * 3)
SNAPSHOT_EXPIRY = timedelta(days=365 * 3)


@dataclass(frozen=True)
class TagChanges:
    add: Mapping[str, tuple[str, int]]
    remove: frozenset[str]

    def target_metas(self) -> dict[str, FileMeta]:
        out: dict[str, FileMeta] = {}
        for tag, (sha256_hex, length) in self.add.items():
            try:
                digest = bytes.fromhex(sha256_hex)
            except ValueError:
                digest = b""
            if len(digest) != hashlib.sha256().digest_size or length < 0:
                raise ValueError(f"{tag}: a target needs a sha256 hex digest and a length")
            out[tag] = FileMeta(length, {"sha256": digest})
        return out


@dataclass(frozen=True)
class RoleKeys:
    role: str
    keys: Mapping[str, PublicKey]
    definition: Role


def signing_role(repo: TrustedRepo, store: KeyStore, tags: Iterable[str] = ()) -> str:
    """targets/releases when it exists, its paths cover the tags and we hold its key (as
    docker does), else targets."""
    top = repo.targets["targets"]
    releases = top.delegation(RELEASES)
    if (
        releases
        and all(releases.allows(tag) for tag in tags)
        and store.held(top.delegation_keys, releases.keyids)
    ):
        return RELEASES
    if store.held(repo.root.keys, repo.root.roles["targets"].keyids):
        return "targets"
    wanted = "targets/releases or targets" if releases else "targets"
    raise SigningKeyError(f"{repo.gun}: no local private key for {wanted} in {store.private_dir}")


def role_keys(repo: TrustedRepo, role: str) -> RoleKeys:
    if role == "targets":
        return RoleKeys(role, repo.root.keys, repo.root.roles["targets"])
    for parent in repo.targets.values():
        found = parent.delegation(role)
        if found is not None:
            return RoleKeys(role, parent.delegation_keys, found)
    raise SigningKeyError(f"{repo.gun}: {role} is not a role of this repository")


def signers(store: KeyStore, gun: str, rk: RoleKeys) -> list[tuple[SigningKey, str]]:
    """Every held key of the role, opened; fewer than its threshold is a SigningKeyError."""
    held = store.held(rk.keys, rk.definition.keyids)
    if len(held) < rk.definition.threshold:
        raise SigningKeyError(
            f"{gun}: {rk.role} needs {rk.definition.threshold} signing key(s), "
            f"{len(held)} held in {store.private_dir}"
        )
    return [(store.load(path, rk.role), key_id) for key_id, path in held]


def update_files(
    repo: TrustedRepo, store: KeyStore, changes: TagChanges, now: datetime
) -> dict[str, bytes]:
    """Role name -> new file bytes; empty when the repository already matches."""
    adds = changes.target_metas()
    edits: dict[str, dict[str, FileMeta]] = {}
    into = signing_role(repo, store, adds) if adds else "targets"
    _refuse_shadowed(repo, into, adds)
    for role in [into, *(r for r in repo.targets if r != into)]:
        current = repo.targets.get(role) or Targets(0, now, {})
        wanted = dict(current.targets)
        if role == into:
            wanted.update(adds)
        for tag in changes.remove & wanted.keys():
            del wanted[tag]
        if wanted != current.targets:
            edits[role] = wanted
    files: dict[str, bytes] = {}
    for role, wanted in edits.items():
        current = repo.targets.get(role) or Targets(0, now, {})  # new delegation: v1
        body = replace(current, version=current.version + 1, expires=now + TARGETS_EXPIRY)
        body = replace(body, targets=wanted)
        files[role] = sign(body.to_json(), signers(store, repo.gun, role_keys(repo, role)))
    if files and store.held(repo.root.keys, repo.root.roles["snapshot"].keyids):
        files["snapshot"] = _client_snapshot(repo, store, files, now)
    return files


def _refuse_shadowed(repo: TrustedRepo, into: str, adds: Mapping[str, FileMeta]) -> None:
    """Signing into targets is pointless for a tag targets/releases pins elsewhere: docker
    pulls what releases says. Refuse before uploading rather than report a false success."""
    releases = repo.targets.get(RELEASES)
    if into != "targets" or releases is None:
        return
    shadowed = sorted(
        t for t, m in adds.items() if t in releases.targets and releases.targets[t] != m
    )
    if shadowed:
        raise SigningKeyError(
            f"{repo.gun}: targets/releases decides pulls of {', '.join(shadowed)} with another "
            "digest, and no local key for targets/releases is held to change it"
        )


def _client_snapshot(
    repo: TrustedRepo, store: KeyStore, files: Mapping[str, bytes], now: datetime
) -> bytes:
    """The notary CLI's default keeps the snapshot key local: then we sign the snapshot."""
    meta = dict(repo.snapshot.meta)
    for role, body in files.items():
        meta[role] = FileMeta.of(body)
    snapshot = Snapshot(repo.snapshot.version + 1, now + SNAPSHOT_EXPIRY, meta)
    rk = RoleKeys("snapshot", repo.root.keys, repo.root.roles["snapshot"])
    return sign(snapshot.to_json(), signers(store, repo.gun, rk))


def initial_files(
    gun: str,
    store: KeyStore,
    server_keys: Mapping[str, PublicKey],
    changes: TagChanges,
    now: datetime,
) -> dict[str, bytes]:
    """root.json v1 (4 roles, server-held snapshot and timestamp) and targets.json v1."""
    root_key = _root_key(store)
    targets_key = _targets_key(store, gun)
    cert = root_certificate_key(root_key, gun, now)
    keys = {k.key_id: k for k in (cert, targets_key.public, *server_keys.values())}
    roles = {
        "root": Role((cert.key_id,), 1),
        "targets": Role((targets_key.key_id,), 1),
        "snapshot": Role((server_keys["snapshot"].key_id,), 1),
        "timestamp": Role((server_keys["timestamp"].key_id,), 1),
    }
    root = Root(1, now + ROOT_EXPIRY, keys, roles)
    adds = {t: m for t, m in changes.target_metas().items() if t not in changes.remove}
    targets = Targets(1, now + TARGETS_EXPIRY, adds)
    return {
        "root": sign(root.to_json(), [(root_key, cert.key_id)]),
        "targets": sign(targets.to_json(), [(targets_key, targets_key.key_id)]),
    }


def _root_key(store: KeyStore) -> SigningKey:
    """Docker reuses the first local root key (by key ID), else makes one."""
    entries = sorted(store.root_entries(), key=lambda e: e.key_id)
    if entries:
        return store.load(entries[0].path, "root")
    key = SigningKey.generate()
    store.save(key, "root", None)
    return key


def _targets_key(store: KeyStore, gun: str) -> SigningKey:
    """A targets key left for this GUN by an earlier, unfinished attempt is reused."""
    for entry in store.entries():
        if entry.role == "targets" and entry.gun == gun:
            return store.load(entry.path, "targets")
    key = SigningKey.generate()
    store.save(key, "targets", gun)
    return key


def held_roles(repo: TrustedRepo, store: KeyStore) -> tuple[str, ...]:
    """Roles of the repository we hold at least one private key for."""
    found: list[str] = []
    for name in ("root", "targets", "snapshot", "timestamp"):
        if store.held(repo.root.keys, repo.root.roles[name].keyids):
            found.append(name)
    for parent in repo.targets.values():
        for role in parent.delegations:
            if role.name not in found and store.held(parent.delegation_keys, role.keyids):
                found.append(role.name)
    return tuple(found)
