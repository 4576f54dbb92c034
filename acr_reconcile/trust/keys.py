"""The docker trust directory: private keys under ``private/<keyid>.key``, shared with the
docker and notary CLIs, and the passphrases that open them.

Plan time needs to know, before anything changes, whether apply will be able to sign; so
``KeyStore.check`` opens the keys it would use without signing anything.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from acr_reconcile.errors import SigningKeyError
from acr_reconcile.files import cannot_write, unsafe_reason, write_private_atomic
from acr_reconcile.redact import remember
from acr_reconcile.trust.crypto import PublicKey, SigningKey
from acr_reconcile.trust.keyfile import KeyFileError, decrypt_key, encrypt_key, parse_pem

ROOT_ENV = ("DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE", "NOTARY_ROOT_PASSPHRASE")
REPOSITORY_ENV = ("DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE", "NOTARY_TARGETS_PASSPHRASE")
SNAPSHOT_ENV = ("DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE", "NOTARY_SNAPSHOT_PASSPHRASE")
DELEGATION_ENV = ("DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE", "NOTARY_DELEGATION_PASSPHRASE")


def default_trust_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$DOCKER_CONFIG/trust``, else ``~/.docker/trust``, as docker resolves it."""
    env = os.environ if env is None else env
    config = env.get("DOCKER_CONFIG")
    return Path(config) / "trust" if config else Path.home() / ".docker" / "trust"


@dataclass(frozen=True)
class Passphrases:
    """Key passphrases per kind of role; never printed (``repr`` hides them)."""

    root: str | None = field(default=None, repr=False)
    targets: str | None = field(default=None, repr=False)
    snapshot: str | None = field(default=None, repr=False)
    delegation: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Passphrases:
        """Docker's variables first, then the notary CLI's."""
        env = os.environ if env is None else env

        def first(names: tuple[str, ...]) -> str | None:
            return next((env[n] for n in names if env.get(n)), None)

        found = cls(
            first(ROOT_ENV), first(REPOSITORY_ENV), first(SNAPSHOT_ENV), first(DELEGATION_ENV)
        )
        remember(found.root, found.targets, found.snapshot, found.delegation)
        return found

    def for_role(self, role: str) -> str | None:
        return {"root": self.root, "targets": self.targets, "snapshot": self.snapshot}.get(
            role, self.delegation
        )


def env_hint(role: str) -> str:
    names = {"root": ROOT_ENV, "targets": REPOSITORY_ENV, "snapshot": SNAPSHOT_ENV}
    return " or ".join(names.get(role, DELEGATION_ENV))


@dataclass(frozen=True)
class KeyEntry:
    key_id: str
    role: str
    gun: str | None
    path: Path
    encrypted: bool = True


class KeyStore:
    """The keys under ``<trust dir>/private``.

    The trust directory, ``private/`` and every key file must be the user's own and
    writable by no one else before anything in them is read or written: a key another
    local user planted would otherwise become the root of every new repository.
    """

    def __init__(self, trust_dir: Path, passphrases: Passphrases) -> None:
        self.trust_dir = trust_dir
        self.private_dir = trust_dir / "private"
        self.passphrases = passphrases
        self._loaded: dict[str, SigningKey] = {}

    def check_directories(self) -> None:
        """SigningKeyError unless the trust and key directories are safe (or absent)."""
        for path, what in (
            (self.trust_dir, "the trust directory"),
            (self.private_dir, "the key directory"),
        ):
            reason = unsafe_reason(path, what)
            if reason:
                raise SigningKeyError(reason)

    def _check_file(self, path: Path) -> None:
        reason = unsafe_reason(path, "the key file")
        if reason:
            raise SigningKeyError(reason)

    def entries(self) -> list[KeyEntry]:
        """Every readable key file, from its PEM headers alone (nothing is decrypted)."""
        self.check_directories()
        found: list[KeyEntry] = []
        for path in sorted(self.private_dir.glob("*.key")):
            self._check_file(path)
            try:
                block = parse_pem(path.read_text())
            except (OSError, UnicodeDecodeError, KeyFileError):
                continue
            headers = block.headers
            found.append(
                KeyEntry(
                    path.stem,
                    headers.get("role", ""),
                    headers.get("gun"),
                    path,
                    encrypted=block.kind != "PRIVATE KEY",
                )
            )
        return found

    def root_entries(self) -> list[KeyEntry]:
        return [e for e in self.entries() if e.role == "root"]

    def held(self, keys: Mapping[str, PublicKey], key_ids: Iterable[str]) -> list[tuple[str, Path]]:
        """(key ID as the role lists it, key file) for each listed key we hold locally."""
        self.check_directories()
        out: list[tuple[str, Path]] = []
        for key_id in key_ids:
            key = keys.get(key_id)
            if key is None:
                continue
            path = self.private_dir / f"{key.canonical().key_id}.key"
            if path.is_file():
                out.append((key_id, path))
        return out

    def load(self, path: Path, role: str) -> SigningKey:
        """Open a key file with the passphrase for ``role``; a SigningKeyError says which."""
        self.check_directories()
        self._check_file(path)
        cached = self._loaded.get(path.stem)
        if cached is not None:
            return cached
        passphrase = self.passphrases.for_role(role)
        try:
            block = parse_pem(path.read_text())
        except (OSError, UnicodeDecodeError, KeyFileError) as exc:
            raise SigningKeyError(f"cannot read the {role} key file {path}") from exc
        if passphrase is None and block.kind != "PRIVATE KEY":
            raise SigningKeyError(
                f"no passphrase for the {role} key {path.stem[:12]}…: set {env_hint(role)}"
            )
        try:
            key = decrypt_key(block, passphrase)
        except KeyFileError as exc:
            raise SigningKeyError(
                f"cannot open the {role} key {path.stem[:12]}… ({exc}): check {env_hint(role)}"
            ) from exc
        self._loaded[path.stem] = key
        return key

    def save(self, key: SigningKey, role: str, gun: str | None) -> Path:
        """Write ``private/<keyid>.key`` (0600, directories 0700), encrypted as notary does."""
        passphrase = self.passphrases.for_role(role)
        if not passphrase:
            hint = env_hint(role)
            raise SigningKeyError(f"no passphrase to protect a new {role} key: set {hint}")
        headers = {"role": role} if gun is None else {"role": role, "gun": gun}
        text = encrypt_key(key, passphrase, headers)
        self.check_directories()
        _make_private_dir(self.private_dir)
        path = self.private_dir / f"{key.key_id}.key"
        write_private_atomic(path, text.encode(), f"the new {role} key")
        self._loaded[key.key_id] = key
        return path


def _make_private_dir(path: Path) -> None:
    try:
        for directory in (path.parent, path):
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(directory, 0o700)
    except OSError as error:
        raise cannot_write(path, "the key directory", error) from None
