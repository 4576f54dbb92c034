"""The checks that make trust data trustworthy, each failing with a TrustDataInvalid that
names the repository, the role and what failed (never a silent "unsigned")."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime

from cryptography.x509.oid import NameOID

from acr_reconcile.errors import TrustDataInvalid
from acr_reconcile.trust.canonical import encode_canonical
from acr_reconcile.trust.crypto import PublicKey
from acr_reconcile.trust.tuf import Envelope, FileMeta, Role

_CN = NameOID.COMMON_NAME
_HASHES = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}


def check_signatures(
    gun: str, role_name: str, env: Envelope, keys: Mapping[str, PublicKey], role: Role
) -> None:
    """Distinct valid signatures by the role's keys must reach its threshold."""
    if role.threshold < 1:
        raise TrustDataInvalid(f"{gun}: {role_name} has threshold {role.threshold}")
    try:
        message = encode_canonical(env.signed)
    except TypeError as exc:
        raise TrustDataInvalid(f"{gun}: {role_name} is not canonical JSON ({exc})") from exc
    valid: set[str] = set()
    for sig in env.signatures:
        key = keys.get(sig.keyid)
        if sig.keyid not in role.keyids or key is None or key.key_id != sig.keyid:
            continue
        if key.verify(sig.method, message, sig.sig):
            valid.add(sig.keyid)
    if len(valid) < role.threshold:
        raise TrustDataInvalid(
            f"{gun}: bad signature on {role_name}: {len(valid)} valid signature(s) "
            f"of the {role.threshold} required"
        )


def check_meta(gun: str, role_name: str, raw: bytes, meta: FileMeta) -> None:
    """The bytes must be exactly those the parent role (snapshot/timestamp) lists."""
    if len(raw) != meta.length:
        raise TrustDataInvalid(
            f"{gun}: hash mismatch of {role_name}: {len(raw)} bytes, {meta.length} expected"
        )
    known = [name for name in meta.hashes if name in _HASHES]
    if not known:
        raise TrustDataInvalid(f"{gun}: no usable hash listed for {role_name}")
    for name in known:
        if _HASHES[name](raw).digest() != meta.hashes[name]:
            raise TrustDataInvalid(f"{gun}: hash mismatch of {role_name} ({name})")


def check_expiry(gun: str, role_name: str, expires: datetime, now: datetime) -> None:
    if expires <= now:
        raise TrustDataInvalid(f"{gun}: expired {role_name} (expired {expires:%Y-%m-%d %H:%M} UTC)")


def check_rollback(gun: str, role_name: str, version: int, cached: int | None) -> None:
    """A version older than the one already trusted means a replay of old trust data."""
    if cached is not None and version < cached:
        raise TrustDataInvalid(f"{gun}: rollback of {role_name} from v{cached} to v{version}")


def check_root_certificates(
    gun: str, keys: Mapping[str, PublicKey], role: Role, now: datetime
) -> None:
    """Root certificates must name the GUN and be valid now (docker's trust pinning)."""
    for key_id in role.keyids:
        key = keys.get(key_id)
        cert = key.certificate() if key else None
        if cert is None:
            continue
        names = [a.value for a in cert.subject.get_attributes_for_oid(_CN)]
        if names != [gun]:
            raise TrustDataInvalid(
                f"{gun}: root certificate {key_id[:12]}… is for {names}, not {gun}"
            )
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise TrustDataInvalid(
                f"{gun}: root certificate {key_id[:12]}… is expired or not yet valid"
            )


def sha256_hex(meta: FileMeta, gun: str, role_name: str) -> str:
    digest = meta.hashes.get("sha256")
    if digest is None:
        raise TrustDataInvalid(f"{gun}: no sha256 listed for {role_name}")
    return digest.hex()
