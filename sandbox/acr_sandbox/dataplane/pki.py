"""Where the data plane keeps the certificates it has the sandbox CA issue.

Every sandbox client already trusts the CA, so the loginServer proxies and the backend
servers present CA-issued TLS certificates, and the token-signing key carries a CA-issued
leaf that both backends verify through the ``x5c`` header (their ``rootcertbundle`` is the
CA itself). The certificates themselves come from the sandbox's one issuer,
:func:`acr_sandbox.certs.issue_leaf`; this module keeps them as files, reused across
restarts (while valid and issued by the current CA) so tokens and trust stay valid.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from acr_sandbox.certs import issue_leaf, key_pem, make_ca, write_private
from acr_sandbox.errors import SandboxError

_CaKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True)
class IssuedPair:
    cert_path: Path
    key_path: Path


def ca_pem_bytes(ca_cert: str) -> bytes:
    """The contract allows the CA certificate as PEM text or as a path to it."""
    if ca_cert.lstrip().startswith("-----BEGIN"):
        return ca_cert.encode()
    try:
        return Path(ca_cert).read_bytes()
    except OSError as exc:
        raise SandboxError(f"sandbox CA certificate {ca_cert}: cannot read ({exc})") from exc


def _load_ca(ca_cert: str, ca_key_path: str) -> tuple[x509.Certificate, _CaKey]:
    cert = x509.load_pem_x509_certificate(ca_pem_bytes(ca_cert))
    try:
        key = serialization.load_pem_private_key(Path(ca_key_path).read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise SandboxError(f"sandbox CA key {ca_key_path}: cannot load ({exc})") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise SandboxError(f"sandbox CA key {ca_key_path}: expected an EC or RSA key")
    return cert, key


def issue(
    directory: Path,
    stem: str,
    *,
    ca_cert: str,
    ca_key_path: str,
    common_name: str,
    server: bool,
) -> IssuedPair:
    """A P-256 leaf signed by the CA, written as ``stem.crt``/``stem.key`` (kept if present)."""
    directory.mkdir(parents=True, exist_ok=True)
    pair = IssuedPair(directory / f"{stem}.crt", directory / f"{stem}.key")
    if pair.cert_path.exists() and pair.key_path.exists() and _reusable(pair.cert_path, ca_cert):
        return pair
    ca, ca_key = _load_ca(ca_cert, ca_key_path)
    cert, key = issue_leaf(ca_key, ca, common_name, server=server)
    write_private(pair.key_path, key_pem(key))
    pair.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return pair


def _reusable(cert_path: Path, ca_cert: str) -> bool:
    """A leaf is reused only while valid and issued by the current CA (a reset makes a new CA)."""
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    ca = x509.load_pem_x509_certificate(ca_pem_bytes(ca_cert))
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return cert.not_valid_after_utc > dt.datetime.now(dt.UTC) + dt.timedelta(days=1)


def create_ca(directory: Path) -> tuple[Path, Path]:
    """A standalone CA (``ca.crt``, ``ca.key``) to run the data plane without the daemon."""
    key, cert = make_ca()
    cert_path, key_path = directory / "ca.crt", directory / "ca.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    write_private(key_path, key_pem(key))
    return cert_path, key_path
