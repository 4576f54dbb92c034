"""Certificates the data plane issues from the sandbox CA.

Every sandbox client already trusts the CA, so the loginServer proxies and the backend
servers present CA-issued TLS certificates, and the token-signing key carries a CA-issued
leaf that both backends verify through the ``x5c`` header (their ``rootcertbundle`` is the
CA itself). Files are reused across restarts so tokens and trust stay valid.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from acr_sandbox.certs import make_ca, write_private
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
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
    )
    if server:
        sans: list[x509.GeneralName] = [
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.DNSName("localhost"),
        ]
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    usage = dict.fromkeys(
        (
            "content_commitment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )
    builder = builder.add_extension(
        x509.KeyUsage(digital_signature=True, key_encipherment=False, **usage), critical=True
    )
    cert = builder.sign(ca_key, hashes.SHA256())
    write_private(
        pair.key_path,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
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
    write_private(
        key_path,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    return cert_path, key_path
