"""Fuzz target: trust data from a hostile server, a tampered trust cache and key files.

Whatever arrives, reading trust data must end in verified data or an AcrReconcileError
(TrustDataInvalid, SigningKeyError, ...); any other exception is a parser bug. Verified
data is also handed to the code that consumes it (expiry warnings, choosing the signing
role), since a parser that lets a wrong type through crashes there instead.

Input layout for atheris: byte 0 picks the mode, byte 1 the role, bytes 2-3 a selector,
the rest is the payload (see :meth:`TrustTarget.run`).
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests

from acr_reconcile.errors import AcrReconcileError, TrustServerError
from acr_reconcile.trust import der
from acr_reconcile.trust.cache import TrustCache
from acr_reconcile.trust.crypto import SigningKey
from acr_reconcile.trust.keyfile import (
    AES256_CBC,
    ENCRYPTED,
    PBES2,
    PBKDF2,
    encrypt_key,
    format_pem,
    parse_pem,
)
from acr_reconcile.trust.keys import KeyStore, Passphrases
from acr_reconcile.trust.notary import NotaryHttp
from acr_reconcile.trust.publish import role_keys, signing_role
from acr_reconcile.trust.reader import TrustedRepo, fetch_trusted
from acr_reconcile.trust.service import WARN_WITHIN, expiry_warnings
from acr_reconcile.trust.tuf import RELEASES
from tests.fuzz.corpus import write_seeds
from tests.fuzz.mutations import WRONG_VALUES, delete_at, json_value, paths, replace_at
from tests.fuzz.world import GUN, NOW, ROLES, world

MODES = ("served", "resigned", "pinned", "keyfile", "keyder", "refusal")
Outcome = TrustedRepo | AcrReconcileError | None
PASSPHRASE = "fuzz-passphrase"
_DELETE, _PIN = 0x8000, 0x4000


class HostileServer:
    """Answers like a notary server that may lie: the checksum asked for is not honoured."""

    def __init__(self, files: Mapping[str, bytes]) -> None:
        self.files = files

    def get_meta(
        self, gun: str, role: str, checksum: str | None = None, length: int | None = None
    ) -> bytes | None:
        return self.files.get(role)


class TrustTarget:
    """One fuzz input at a time, in a private temporary trust directory."""

    def __init__(self, base: Path) -> None:
        self.trust_dir = base / "trust"
        self.key_dir = base / "keys"
        self.valid = world().files()
        self.store = KeyStore(self.trust_dir, Passphrases(PASSPHRASE, PASSPHRASE, PASSPHRASE))

    def run(self, data: bytes) -> None:
        head = data[:4].ljust(4, b"\0")
        mode, role = MODES[head[0] % len(MODES)], ROLES[head[1] % len(ROLES)]
        selector, payload = int.from_bytes(head[2:4], "big"), data[4:]
        if mode == "served":
            self.read(world().files(replace={role: payload}), {})
        elif mode == "pinned":
            self.read(self.valid, {role: payload})
        elif mode == "keyfile":
            self.key_file(payload)
        elif mode == "keyder":  # the DER inside the PEM, where byte mutations mean something
            self.key_file(format_pem(ENCRYPTED, {"role": role}, payload).encode())
        elif mode == "refusal":
            refusal(400 + selector % 200, payload)
        else:
            value = json_value(payload) if payload else WRONG_VALUES[selector % len(WRONG_VALUES)]
            pinned = self.valid if selector & _PIN else {}
            self.resigned(role, selector, value, delete=bool(selector & _DELETE), pinned=pinned)

    def resigned(
        self,
        role: str,
        choice: int,
        value: Any,
        *,
        delete: bool = False,
        pinned: Mapping[str, bytes] | None = None,
        place: tuple[Any, ...] | None = None,
    ) -> Outcome:
        """The place ``choice`` (modulo the places; or ``place`` itself) of ``role``'s
        signed part gets ``value`` (or goes), then the role and its parents are signed again."""

        def mutate(name: str, signed: dict[str, Any]) -> dict[str, Any]:
            if name != role:
                return signed
            places = paths(signed)
            where = places[choice % len(places)] if place is None else place
            changed: dict[str, Any] = (
                delete_at(signed, where) if delete else replace_at(signed, where, value)
            )
            return changed if isinstance(changed, dict) else {"signed": changed}

        return self.read(world().files(mutate), pinned or {})

    def read(self, files: Mapping[str, bytes], pinned: Mapping[str, bytes]) -> Outcome:
        """Verified data (handed on to its consumers), None, or the clean error."""
        shutil.rmtree(self.trust_dir / "tuf", ignore_errors=True)
        cache = TrustCache(self.trust_dir, GUN)
        for role, raw in pinned.items():
            cache.save(role, raw)
        try:
            repo = fetch_trusted(HostileServer(files), cache, GUN, NOW)  # type: ignore[arg-type]
            if repo is not None:
                self._consume(repo)
        except AcrReconcileError as error:
            return error
        return repo

    def _consume(self, repo: TrustedRepo) -> None:
        expiry_warnings(repo, NOW, WARN_WITHIN)
        tags = tuple(repo.targets["targets"].targets)
        for role in (RELEASES, "targets"):
            with contextlib.suppress(AcrReconcileError):
                role_keys(repo, role)
        with contextlib.suppress(AcrReconcileError):
            signing_role(repo, self.store, tags)

    def key_file(self, raw: bytes) -> int:
        """A key file as found in the trust directory: listed, then opened (how many times
        it opened is returned, so a test can tell a valid seed from a refused one)."""
        private = self.key_dir / "private"
        shutil.rmtree(private, ignore_errors=True)
        private.mkdir(parents=True)
        path = private / f"{hashlib.sha256(raw).hexdigest()}.key"
        path.write_bytes(raw)
        store = KeyStore(self.key_dir, Passphrases(PASSPHRASE, PASSPHRASE, PASSPHRASE, PASSPHRASE))
        opened = 0
        for entry in store.entries():
            for role in (entry.role or "targets", "root"):
                with contextlib.suppress(AcrReconcileError):
                    opened += bool(store.load(entry.path, role))
        with contextlib.suppress(AcrReconcileError):
            opened += bool(store.load(path, "targets"))
        return opened


def refusal(status: int, body: bytes) -> None:
    """An error answer of the trust server: its body (distribution's ``{"errors": [...]}``
    or anything else) must turn into a TrustServerError, never another exception."""
    response = requests.Response()
    response.status_code, response.reason, response._content = status, "Refused", body
    try:
        NotaryHttp("https://trust.invalid", None, True)._raise_for(response, GUN, "GET root.json")
    except TrustServerError:
        return
    raise AssertionError(f"HTTP {status} was not reported as a refusal")


def runtime_seeds() -> list[bytes]:
    """Seeds valid only with this process's keys: every role served and pinned as made,
    and key files as docker writes them."""
    valid = world().files()
    seeds = [
        bytes([mode, i, 0, 0]) + valid[role] for i, role in enumerate(ROLES) for mode in (0, 2)
    ]
    key = SigningKey.generate()
    for role in ("targets", "root"):
        text = encrypt_key(key, PASSPHRASE, {"role": role, "gun": GUN})
        seeds.append(bytes([3, 0, 0, 0]) + text.encode())
        seeds.append(bytes([4, ROLES.index(role), 0, 0]) + parse_pem(text).body)
    return seeds


def pbes2_key_file(iterations: int, iv: bytes, sealed: bytes, salt: bytes = b"salt") -> bytes:
    """An encrypted key file with the given PBES2 parameters, possible or not."""
    kdf = der.sequence(der.oid(PBKDF2), der.sequence(der.octets(salt), der.integer(iterations)))
    scheme = der.sequence(der.oid(AES256_CBC), der.octets(iv))
    algorithm = der.sequence(der.oid(PBES2), der.sequence(kdf, scheme))
    body = der.sequence(algorithm, der.octets(sealed))
    return format_pem(ENCRYPTED, {"role": "targets"}, body).encode()


def main(argv: list[str], workdir: Path) -> None:
    """Run under atheris (libFuzzer flags in ``argv``); never returns, so ``workdir`` is the
    caller's to remove."""
    import atheris  # type: ignore[import-untyped, import-not-found, unused-ignore]

    seeds = workdir / "seeds"
    write_seeds(seeds, runtime_seeds())
    target = TrustTarget(workdir)
    atheris.Setup([*argv, str(seeds)], target.run)
    atheris.Fuzz()
