"""The trust API the planner's readers and the executor's handlers call.

``read`` answers "which tags would docker trust on pull, and can we sign here?";
``publish`` makes one upload per call however many tags change, and on a version conflict
(someone published first) re-reads, re-applies our changes on top and retries.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from acr_reconcile.errors import SigningKeyError, TrustServerError
from acr_reconcile.registry.tokens import RegistryTokenSource
from acr_reconcile.trust.cache import TrustCache
from acr_reconcile.trust.keys import KeyStore, Passphrases, env_hint
from acr_reconcile.trust.notary import NotaryHttp, VersionConflict
from acr_reconcile.trust.publish import (
    TagChanges,
    held_roles,
    initial_files,
    role_keys,
    signers,
    signing_role,
    update_files,
)
from acr_reconcile.trust.reader import TrustedRepo, fetch_trusted
from acr_reconcile.trust.tuf import RELEASES

WARN_WITHIN = timedelta(days=30)
MAX_ATTEMPTS = 8
_INIT_CONFLICT_CODES = ("VERSION", "INVALID_UPDATE")


@dataclass(frozen=True)
class SignedTarget:
    tag: str
    sha256_hex: str
    length: int
    role: str  # "targets" or "targets/releases" (or another delegation)
    expires: datetime | None = None  # when the role's metadata that signs it expires


@dataclass(frozen=True)
class RepositoryTrust:
    gun: str
    exists: bool
    targets: dict[str, SignedTarget]  # what docker trusts on pull: releases, then targets
    root_key_id: str | None
    warnings: tuple[str, ...]
    signable_roles: tuple[str, ...]  # roles we hold private keys for locally
    versions: dict[str, int] = field(default_factory=dict)  # role -> metadata version read
    # every entry of every verified role (a tag may be in several): what a migration
    # carries over, where ``targets`` keeps only the one docker would pull
    signed: tuple[SignedTarget, ...] = ()


def trust_server_url(login_server: str, env: Mapping[str, str] | None = None) -> str:
    """``$DOCKER_CONTENT_TRUST_SERVER`` if set, else the registry host itself, as docker."""
    env = os.environ if env is None else env
    return env.get("DOCKER_CONTENT_TRUST_SERVER") or f"https://{login_server}"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class TrustClient:
    def __init__(
        self,
        *,
        server_url: str,
        token_source: RegistryTokenSource | None,
        verify: str | bool,
        trust_dir: Path,
        passphrases: Passphrases | None = None,
        now: Callable[[], datetime] = _utcnow,
        warn_within: timedelta = WARN_WITHIN,
    ) -> None:
        self.http = NotaryHttp(server_url, token_source, verify)
        self.trust_dir = trust_dir
        self.keys = KeyStore(trust_dir, passphrases or Passphrases.from_env())
        self.now = now
        self.warn_within = warn_within

    def read(self, gun: str) -> RepositoryTrust:
        """Verified; TrustDataInvalid names what failed. No trust data gives exists=False."""
        repo = self._fetch(gun)
        return self._summary(gun, repo)

    def check_signing(self, gun: str) -> str:
        """The role a publish would sign into, opening the keys it needs without signing.

        Raises SigningKeyError (naming the key and the passphrase variable) so a plan can
        say so before anything changes.
        """
        repo = self._fetch(gun)
        if repo is None:
            self._check_new_repository(gun)
            return "targets"
        role = signing_role(repo, self.keys)
        signers(self.keys, gun, role_keys(repo, role))
        return role

    def _check_new_repository(self, gun: str) -> None:
        """Docker's initialisation needs the first root key (or a passphrase to make one)
        and a passphrase for the new targets key."""
        for entry in sorted(self.keys.root_entries(), key=lambda e: e.key_id)[:1]:
            self.keys.load(entry.path, "root")
        for role in ("root", "targets"):
            if self.keys.passphrases.for_role(role) is None:
                hint = env_hint(role)
                raise SigningKeyError(f"{gun}: no passphrase for a new {role} key: set {hint}")

    def publish(
        self, gun: str, *, add: Mapping[str, tuple[str, int]], remove: Iterable[str] = ()
    ) -> RepositoryTrust:
        """Add/update ``tag -> (manifest sha256 hex, manifest length)`` and remove tags."""
        changes = TagChanges(dict(add), frozenset(remove))
        for attempt in range(MAX_ATTEMPTS):
            repo = self._fetch(gun)
            try:
                self._upload_once(gun, repo, changes)
                break
            except TrustServerError as exc:
                if not _is_conflict(exc, initialising=repo is None):
                    raise
                if attempt == MAX_ATTEMPTS - 1:
                    raise TrustServerError(
                        f"{gun}: gave up publishing after {MAX_ATTEMPTS} version conflicts",
                        status=exc.status,
                        code=exc.code,
                    ) from exc
                time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
        return self.read(gun)

    def _upload_once(self, gun: str, repo: TrustedRepo | None, changes: TagChanges) -> None:
        now = self.now()
        if repo is None:
            if not changes.add:
                return
            self._check_new_repository(gun)  # before the server makes keys for this GUN
            server_keys = {r: self.http.get_server_key(gun, r) for r in ("snapshot", "timestamp")}
            files = initial_files(gun, self.keys, server_keys, changes, now)
        else:
            files = update_files(repo, self.keys, changes, now)
        if files:
            self.http.upload(gun, files)

    def _fetch(self, gun: str) -> TrustedRepo | None:
        return fetch_trusted(self.http, TrustCache(self.trust_dir, gun), gun, self.now())

    def _summary(self, gun: str, repo: TrustedRepo | None) -> RepositoryTrust:
        if repo is None:
            return RepositoryTrust(gun, False, {}, None, (), ())
        targets: dict[str, SignedTarget] = {}
        for role in ("targets", RELEASES):  # releases last, so it wins, as on docker pull
            for tag, meta in (repo.targets[role].targets if role in repo.targets else {}).items():
                digest = meta.hashes.get("sha256")
                if digest is not None:
                    targets[tag] = SignedTarget(tag, digest.hex(), meta.length, role)
        root_ids = repo.root.roles["root"].keyids
        return RepositoryTrust(
            gun,
            True,
            targets,
            root_ids[0] if root_ids else None,
            repo.warnings + tuple(expiry_warnings(repo, self.now(), self.warn_within)),
            held_roles(repo, self.keys),
            _versions(repo),
            _every_entry(repo),
        )


def _every_entry(repo: TrustedRepo) -> tuple[SignedTarget, ...]:
    """Each tag in each verified role, by role name then tag (a stable order)."""
    found: list[SignedTarget] = []
    for role in sorted(repo.targets):
        data = repo.targets[role]
        for tag, meta in sorted(data.targets.items()):
            digest = meta.hashes.get("sha256")
            if digest is not None:
                found.append(SignedTarget(tag, digest.hex(), meta.length, role, data.expires))
    return tuple(found)


def _versions(repo: TrustedRepo) -> dict[str, int]:
    found = {"root": repo.root.version, "timestamp": repo.timestamp.version}
    found["snapshot"] = repo.snapshot.version
    found.update({role: t.version for role, t in repo.targets.items()})
    return found


def _is_conflict(exc: TrustServerError, *, initialising: bool) -> bool:
    if isinstance(exc, VersionConflict):
        return True
    return initialising and exc.code in _INIT_CONFLICT_CODES


def expiry_warnings(repo: TrustedRepo, now: datetime, within: timedelta) -> list[str]:
    """Metadata and root certificates that expire within ``within``: signing must happen
    (or keys be rotated) before then, or pulls start failing.

    The timestamp is left out: the trust server holds its key and re-signs it whenever it
    is about to expire (notary-server signs it for 14 days), so a warning would fire on
    every read and mean nothing. An expired timestamp still fails verification."""
    dated = {"root": repo.root.expires, "snapshot": repo.snapshot.expires}
    dated.update({role: t.expires for role, t in repo.targets.items()})
    for key_id in repo.root.roles["root"].keyids:
        cert = repo.root.keys[key_id].certificate() if key_id in repo.root.keys else None
        if cert is not None:
            dated[f"root certificate {key_id[:12]}…"] = cert.not_valid_after_utc
    return [
        f"{repo.gun}: {what} expires in {(when - now).days} days"
        for what, when in dated.items()
        if when - now < within
    ]
