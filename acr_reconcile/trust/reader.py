"""Fetch and verify a repository's trust data the way the notary client does: root (pinned
on first use, rotations checked), timestamp, snapshot by checksum, targets and delegations
by checksum; every signature, threshold, hash, version and expiry is checked."""

from __future__ import annotations

import shlex
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from acr_reconcile.errors import TrustDataInvalid
from acr_reconcile.trust.cache import TrustCache
from acr_reconcile.trust.canonical import encode_canonical
from acr_reconcile.trust.crypto import PublicKey
from acr_reconcile.trust.notary import NotaryHttp
from acr_reconcile.trust.tuf import (
    RELEASES,
    Envelope,
    FileMeta,
    MetadataFormatError,
    Role,
    Root,
    Snapshot,
    Targets,
    parse_envelope,
    parse_root,
    parse_snapshot,
    parse_targets,
)
from acr_reconcile.trust.verify import (
    check_expiry,
    check_meta,
    check_rollback,
    check_root_certificates,
    check_signatures,
    sha256_hex,
)

MAX_DELEGATIONS = 256
MAX_ROOT_STEPS = 64
T = TypeVar("T")


@dataclass(frozen=True)
class TrustedRepo:
    """Verified trust data of one GUN; ``raw`` holds the verified bytes per role."""

    gun: str
    root: Root
    timestamp: Snapshot
    snapshot: Snapshot
    targets: dict[str, Targets]
    raw: dict[str, bytes]
    warnings: tuple[str, ...] = field(default=())


def fetch_trusted(
    http: NotaryHttp, cache: TrustCache, gun: str, now: datetime
) -> TrustedRepo | None:
    """The verified trust data of ``gun``, or None when the server has none for it."""
    cached = {r: cache.version(r) for r in ("timestamp", "snapshot", "targets")}
    root_raw = http.get_meta(gun, "root")
    if root_raw is None:
        return None
    root_raw, root = _trusted_root(http, cache, gun, root_raw, now)
    ts_raw = http.get_meta(gun, "timestamp")
    if ts_raw is None:
        return None
    timestamp = _verified_snapshot(gun, "timestamp", ts_raw, root, cached["timestamp"], now)
    snap_meta = _listed(timestamp, "snapshot", gun)
    snap_raw = _get_listed(http, gun, "snapshot", snap_meta)
    check_meta(gun, "snapshot", snap_raw, snap_meta)
    snapshot = _verified_snapshot(gun, "snapshot", snap_raw, root, cached["snapshot"], now)
    if "root" in snapshot.meta:
        check_meta(gun, "root", root_raw, snapshot.meta["root"])
    raw = {"root": root_raw, "timestamp": ts_raw, "snapshot": snap_raw}
    targets, warnings = _walk_targets(http, cache, gun, root, snapshot, raw, cached, now)
    for role, body in raw.items():
        if (cache.version(role) or 0) <= _version_of(body):
            cache.save(role, body)
    return TrustedRepo(gun, root, timestamp, snapshot, targets, raw, tuple(warnings))


def _trusted_root(
    http: NotaryHttp, cache: TrustCache, gun: str, remote_raw: bytes, now: datetime
) -> tuple[bytes, Root]:
    """Trust on first use; afterwards a new root must be signed by the previous one."""
    pinned_raw = cache.load("root")
    remote = _self_signed_root(gun, remote_raw)
    if pinned_raw is None or pinned_raw == remote_raw:
        check_root_certificates(gun, remote.keys, remote.roles["root"], now)
        check_expiry(gun, "root", remote.expires, now)
        return remote_raw, remote
    previous = _self_signed_root(gun, pinned_raw)
    if remote.version < previous.version:
        raise TrustDataInvalid(_not_the_pinned_root(gun, cache, previous, remote))
    check_rollback(gun, "root", remote.version, previous.version)
    if remote.version == previous.version:
        if _signed_part(remote_raw) != _signed_part(pinned_raw):
            raise TrustDataInvalid(_not_the_pinned_root(gun, cache, previous, remote))
        return remote_raw, remote  # same content, re-serialised or with other signatures
    if remote.version - previous.version > MAX_ROOT_STEPS:
        raise TrustDataInvalid(
            f"{gun}: root jumps from v{previous.version} to v{remote.version}, "
            f"more than {MAX_ROOT_STEPS} rotations"
        )
    for version in range(previous.version + 1, remote.version + 1):
        step_raw = (
            remote_raw if version == remote.version else http.get_meta(gun, f"{version}.root")
        )
        if step_raw is None:
            raise TrustDataInvalid(f"{gun}: root v{version} of the rotation chain is missing")
        step = _self_signed_root(gun, step_raw)
        env = _envelope(gun, "root", step_raw)
        try:
            check_signatures(gun, "root", env, previous.keys, previous.roles["root"])
        except TrustDataInvalid as exc:
            raise TrustDataInvalid(
                f"{gun}: root rotated from v{previous.version} to v{version} without the "
                "signatures of the previously trusted root keys"
            ) from exc
        previous = step
    check_root_certificates(gun, remote.keys, remote.roles["root"], now)
    check_expiry(gun, "root", remote.expires, now)
    return remote_raw, remote


def _root_key(root: Root) -> str:
    ids = root.roles["root"].keyids
    return ids[0][:12] if ids else "none"


def _not_the_pinned_root(gun: str, cache: TrustCache, pinned: Root, remote: Root) -> str:
    """What happened and the exact remedy: a root other than the one pinned on first use,
    not reached by a signed rotation, is what re-created trust data looks like (a sandbox
    reset, a registry deleted and made again) and also what an attack looks like."""
    pin = cache.base.parent
    return (
        f"{gun}: changed without a new version: the trust server's root (v{remote.version}, "
        f"root key {_root_key(remote)}) is not the one this machine pinned on first use "
        f"(v{pinned.version}, root key {_root_key(pinned)}) and is not signed by it. "
        "That is what trust data deleted and created anew looks like (a sandbox reset, a "
        "registry deleted and re-created), and also what an attack looks like. If you know "
        f"the trust data was reset, forget the old pin with: rm -r {shlex.quote(str(pin))} "
        "and run plan again (the new root is then trusted on first use); otherwise "
        "investigate before signing anything"
    )


def _signed_part(raw: bytes) -> bytes:
    return encode_canonical(parse_envelope(raw).signed)


def _self_signed_root(gun: str, raw: bytes) -> Root:
    env = _envelope(gun, "root", raw)
    root = _parse(gun, "root", lambda: parse_root(env.signed))
    for name in ("root", "targets", "snapshot", "timestamp"):
        if name not in root.roles:
            raise TrustDataInvalid(f"{gun}: root v{root.version} has no {name} role")
    check_signatures(gun, "root", env, root.keys, root.roles["root"])
    return root


def _verified_snapshot(
    gun: str, name: str, raw: bytes, root: Root, cached: int | None, now: datetime
) -> Snapshot:
    env = _envelope(gun, name, raw)
    check_signatures(gun, name, env, root.keys, root.roles[name])
    kind = "Timestamp" if name == "timestamp" else "Snapshot"
    parsed = _parse(gun, name, lambda: parse_snapshot(env.signed, kind))
    check_rollback(gun, name, parsed.version, cached)
    check_expiry(gun, name, parsed.expires, now)
    return parsed


def _walk_targets(
    http: NotaryHttp,
    cache: TrustCache,
    gun: str,
    root: Root,
    snapshot: Snapshot,
    raw: dict[str, bytes],
    cached: dict[str, int | None],
    now: datetime,
) -> tuple[dict[str, Targets], list[str]]:
    """Targets, then delegations breadth first; a broken delegation other than
    targets/releases is skipped with a warning, as it never decides a docker pull."""
    targets = _verified_targets(http, gun, "targets", snapshot, root.keys, root.roles["targets"])
    check_rollback(gun, "targets", targets[0].version, cached["targets"])
    check_expiry(gun, "targets", targets[0].expires, now)
    found, raw["targets"] = {"targets": targets[0]}, targets[1]
    warnings: list[str] = []
    queue = deque([targets[0]])
    while queue and len(found) < MAX_DELEGATIONS:
        parent = queue.popleft()
        for role in parent.delegations:
            if role.name in found or role.name not in snapshot.meta:
                continue
            try:
                child, body = _verified_targets(
                    http, gun, role.name, snapshot, parent.delegation_keys, role
                )
                check_rollback(gun, role.name, child.version, cache.version(role.name))
                check_expiry(gun, role.name, child.expires, now)
            except TrustDataInvalid as exc:
                if role.name == RELEASES:
                    raise
                warnings.append(f"{exc}; ignored")
                continue
            found[role.name], raw[role.name] = child, body
            queue.append(child)
    return found, warnings


def _verified_targets(
    http: NotaryHttp,
    gun: str,
    name: str,
    snapshot: Snapshot,
    keys: Mapping[str, PublicKey],
    role: Role,
) -> tuple[Targets, bytes]:
    meta = _listed(snapshot, name, gun)
    body = _get_listed(http, gun, name, meta)
    check_meta(gun, name, body, meta)
    env = _envelope(gun, name, body)
    check_signatures(gun, name, env, keys, role)
    return _parse(gun, name, lambda: parse_targets(env.signed)), body


def _listed(parent: Snapshot, name: str, gun: str) -> FileMeta:
    meta = parent.meta.get(name)
    if meta is None:
        raise TrustDataInvalid(f"{gun}: {parent.type_name.lower()} does not list {name}")
    return meta


def _get_listed(http: NotaryHttp, gun: str, name: str, meta: FileMeta) -> bytes:
    """The file by the checksum its parent lists, read no further than the listed length."""
    body = http.get_meta(gun, name, sha256_hex(meta, gun, name), meta.length)
    if body is None:
        raise TrustDataInvalid(f"{gun}: {name} with the listed checksum is missing on the server")
    return body


def _envelope(gun: str, name: str, raw: bytes) -> Envelope:
    try:
        return parse_envelope(raw)
    except MetadataFormatError as exc:
        raise TrustDataInvalid(f"{gun}: malformed {name}: {exc}") from exc


def _parse(gun: str, name: str, parse: Callable[[], T]) -> T:
    try:
        return parse()
    except MetadataFormatError as exc:
        raise TrustDataInvalid(f"{gun}: malformed {name}: {exc}") from exc


def _version_of(raw: bytes) -> int:
    try:
        return int(parse_envelope(raw).signed.get("version", 0))
    except (MetadataFormatError, ValueError, TypeError):
        return 0
