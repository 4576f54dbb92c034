"""Notary's TUF metadata: parse what the server serves, and write exactly the bytes Go does.

Go re-serialises uploads into its structs before hashing them for the snapshot, so what we
write carries exactly Go's fields (no extras, ``delegations`` always present, ``custom``
and ``paths`` only when set) inside ``{"signed":<canonical>,"signatures":[…]}``.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from acr_reconcile.trust.canonical import encode_canonical
from acr_reconcile.trust.crypto import PublicKey, SigningKey

RELEASES = "targets/releases"
_FRACTION = re.compile(r"\.(\d+)")
# notary's IsDelegation: "targets/" then lowercase letters, digits, "-", "_", "/" in a clean
# path of under 256 characters. The name also becomes a file name in the trust cache.
_DELEGATION_NAME = re.compile(r"targets(/[-a-z0-9_]+)+")
_MAX_ROLE_NAME = 255
_GO_ESCAPES = [
    (b"<", b"\\u003c"),
    (b">", b"\\u003e"),
    (b"&", b"\\u0026"),
    ("\u2028".encode(), b"\\u2028"),
    ("\u2029".encode(), b"\\u2029"),
]


class MetadataFormatError(ValueError):
    """The metadata does not have the shape notary writes."""


@dataclass(frozen=True)
class Signature:
    keyid: str
    method: str
    sig: bytes


@dataclass(frozen=True)
class Envelope:
    """One metadata file as served: the raw bytes, the parsed ``signed`` and its signatures."""

    raw: bytes
    signed: dict[str, Any]
    signatures: tuple[Signature, ...]


@dataclass(frozen=True)
class Role:
    keyids: tuple[str, ...]
    threshold: int


@dataclass(frozen=True)
class DelegatedRole(Role):
    name: str = ""
    paths: tuple[str, ...] = ()
    path_hash_prefixes: tuple[str, ...] = ()

    def allows(self, target: str) -> bool:
        """Docker only signs a tag into a delegation whose ``paths`` cover it."""
        return any(target.startswith(p) for p in self.paths)


@dataclass(frozen=True)
class FileMeta:
    length: int
    hashes: dict[str, bytes]
    custom: Any = None

    @classmethod
    def of(cls, raw: bytes, *, sha512: bool = True) -> FileMeta:
        import hashlib

        hashes = {"sha256": hashlib.sha256(raw).digest()}
        if sha512:
            hashes["sha512"] = hashlib.sha512(raw).digest()
        return cls(len(raw), hashes)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "hashes": {k: base64.b64encode(v).decode() for k, v in self.hashes.items()},
            "length": self.length,
        }
        if self.custom is not None:
            out["custom"] = self.custom
        return out


@dataclass(frozen=True)
class Root:
    version: int
    expires: datetime
    keys: dict[str, PublicKey]
    roles: dict[str, Role]
    consistent_snapshot: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "_type": "Root",
            "consistent_snapshot": self.consistent_snapshot,
            "expires": format_time(self.expires),
            "keys": {k: v.to_json() for k, v in self.keys.items()},
            "roles": {n: _role_json(r) for n, r in self.roles.items()},
            "version": self.version,
        }


@dataclass(frozen=True)
class Targets:
    version: int
    expires: datetime
    targets: dict[str, FileMeta]
    delegation_keys: dict[str, PublicKey] = field(default_factory=dict)
    delegations: tuple[DelegatedRole, ...] = ()

    def delegation(self, name: str) -> DelegatedRole | None:
        return next((d for d in self.delegations if d.name == name), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "_type": "Targets",
            "delegations": {
                "keys": {k: v.to_json() for k, v in self.delegation_keys.items()},
                "roles": [_delegation_json(d) for d in self.delegations],
            },
            "expires": format_time(self.expires),
            "targets": {name: meta.to_json() for name, meta in self.targets.items()},
            "version": self.version,
        }


@dataclass(frozen=True)
class Snapshot:
    """Also the shape of a Timestamp: both are a version, an expiry and file metas."""

    version: int
    expires: datetime
    meta: dict[str, FileMeta]
    type_name: str = "Snapshot"

    def to_json(self) -> dict[str, Any]:
        return {
            "_type": self.type_name,
            "expires": format_time(self.expires),
            "meta": {name: m.to_json() for name, m in self.meta.items()},
            "version": self.version,
        }


def format_time(value: datetime) -> str:
    """Go's RFC 3339 (nano) form: UTC, ``Z``, fraction only when non-zero, zeros trimmed."""
    value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return text + "Z"


def parse_time(text: str) -> datetime:
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text, count=1)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"time without zone: {text}")
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:  # e.g. 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        raise ValueError(f"time out of range: {text}") from exc


def envelope_bytes(signed: Mapping[str, Any], signatures: Iterable[Mapping[str, str]]) -> bytes:
    """The file as Go's ``json.Marshal(data.Signed)`` writes it (keyid, method, sig order)."""
    sigs = ",".join(
        f'{{"keyid":{json.dumps(s["keyid"])},"method":{json.dumps(s["method"])},'
        f'"sig":{json.dumps(s["sig"])}}}'
        for s in signatures
    )
    body = b'{"signed":' + encode_canonical(signed) + b',"signatures":[' + sigs.encode() + b"]}"
    return _go_html_escape(body)


def _go_html_escape(body: bytes) -> bytes:
    """Go's ``json.Marshal`` escapes ``<``, ``>``, ``&``, U+2028 and U+2029 even inside the
    canonical ``signed`` part; the server hashes those bytes, so we write them too."""
    for raw, escaped in _GO_ESCAPES:
        if raw in body:
            body = body.replace(raw, escaped)
    return body


def sign(signed: Mapping[str, Any], keys: Iterable[tuple[SigningKey, str]]) -> bytes:
    """Sign with each (key, key ID as listed in the role) and return the file bytes."""
    message = encode_canonical(signed)
    return envelope_bytes(signed, [key.sign(message, key_id) for key, key_id in keys])


def parse_envelope(raw: bytes) -> Envelope:
    try:
        obj = json.loads(raw)
        signed, sigs = obj["signed"], obj["signatures"] or []
        if not isinstance(signed, dict) or not isinstance(sigs, list):
            raise MetadataFormatError("signed or signatures has the wrong type")
        signatures = tuple(
            Signature(str(s["keyid"]), str(s["method"]), base64.b64decode(s["sig"])) for s in sigs
        )
    except RecursionError as exc:  # JSON nested beyond the interpreter's stack
        raise MetadataFormatError("not notary metadata: nested too deeply") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise MetadataFormatError(f"not notary metadata: {exc}") from exc
    return Envelope(raw, signed, signatures)


def parse_root(signed: Mapping[str, Any]) -> Root:
    with _format_errors("Root", signed):
        keys = {k: PublicKey.from_json(v) for k, v in signed["keys"].items()}
        roles = {n: _role(r) for n, r in signed["roles"].items()}
        return Root(
            _integer(signed["version"]),
            parse_time(signed["expires"]),
            keys,
            roles,
            bool(signed.get("consistent_snapshot", False)),
        )


def parse_targets(signed: Mapping[str, Any]) -> Targets:
    with _format_errors("Targets", signed):
        delegations = signed.get("delegations") or {}
        return Targets(
            _integer(signed["version"]),
            parse_time(signed["expires"]),
            {n: _file_meta(m) for n, m in (signed.get("targets") or {}).items()},
            {k: PublicKey.from_json(v) for k, v in (delegations.get("keys") or {}).items()},
            tuple(_delegated(r) for r in delegations.get("roles") or []),
        )


def parse_snapshot(signed: Mapping[str, Any], type_name: str = "Snapshot") -> Snapshot:
    with _format_errors(type_name, signed):
        return Snapshot(
            _integer(signed["version"]),
            parse_time(signed["expires"]),
            {n: _file_meta(m) for n, m in signed["meta"].items()},
            type_name,
        )


class _format_errors:
    """Turn any shape problem while parsing into one MetadataFormatError."""

    def __init__(self, type_name: str, signed: Mapping[str, Any]) -> None:
        if signed.get("_type") != type_name:
            raise MetadataFormatError(f"_type is {signed.get('_type')!r}, not {type_name!r}")

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, _: Any) -> None:
        if exc is not None and isinstance(exc, ValueError | KeyError | TypeError | AttributeError):
            raise MetadataFormatError(f"malformed metadata: {exc!r}") from exc


def _role(obj: Mapping[str, Any]) -> Role:
    return Role(_strings(obj["keyids"]), _integer(obj["threshold"]))


def _delegated(obj: Mapping[str, Any]) -> DelegatedRole:
    name = obj["name"]
    if not isinstance(name, str) or not _is_delegation(name):
        raise ValueError(f"{name!r} is not a delegation role name")
    return DelegatedRole(
        _strings(obj["keyids"]),
        _integer(obj["threshold"]),
        name,
        _strings(obj.get("paths")),
        _strings(obj.get("path_hash_prefixes")),
    )


def _is_delegation(name: str) -> bool:
    return len(name) <= _MAX_ROLE_NAME and _DELEGATION_NAME.fullmatch(name) is not None


def _integer(value: Any) -> int:
    """Go decodes these fields into integers: a float, string or boolean is malformed."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{value!r} is not an integer")
    return value


def _strings(value: Any) -> tuple[str, ...]:
    """A JSON list of strings (null or absent is empty), as Go's ``[]string``."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise TypeError("expected a list of strings")
    return tuple(value)


def _file_meta(obj: Mapping[str, Any]) -> FileMeta:
    hashes = {k: base64.b64decode(v) for k, v in obj["hashes"].items()}
    return FileMeta(_integer(obj["length"]), hashes, obj.get("custom"))


def _role_json(role: Role) -> dict[str, Any]:
    return {"keyids": list(role.keyids), "threshold": role.threshold}


def _delegation_json(role: DelegatedRole) -> dict[str, Any]:
    out = {"keyids": list(role.keyids), "name": role.name, "threshold": role.threshold}
    if role.paths:
        out["paths"] = list(role.paths)
    if role.path_hash_prefixes:
        out["path_hash_prefixes"] = list(role.path_hash_prefixes)
    return out
