"""The sandbox's own certificate authority and its HTTPS server certificate.

Clients trust the sandbox only through a CA bundle file (system CAs + sandbox CA), so no
code path ever needs ``verify=False``. The CA key stays in the state dir with mode 0600.
:func:`issue_leaf` is the one issuer: this module's HTTPS certificate, and the data
plane's per-registry server certificates and token-signing certificate
(``acr_sandbox.dataplane.pki``, which adds only where they are kept) are all made by it.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SYSTEM_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


@dataclass(frozen=True)
class CertPaths:
    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path
    bundle: Path


def cert_paths(state_dir: Path) -> CertPaths:
    tls = state_dir / "tls"
    return CertPaths(
        ca_cert=tls / "ca.pem",
        ca_key=tls / "ca-key.pem",
        server_cert=tls / "server.pem",
        server_key=tls / "server-key.pem",
        bundle=tls / "ca-bundle.pem",
    )


def write_private(path: Path, data: bytes) -> None:
    """Write the file 0600 whatever the umask (a key or secret is never, even briefly,
    readable by others): through a temporary file created 0600 in the same directory and
    renamed over ``path``, so an earlier copy with a looser mode is replaced, not reused,
    and a reader never sees half a file."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "acr-reconcile sandbox"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def make_ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A fresh EC P-256 CA, valid ten years; the sandbox's trust anchor."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    name = _name("acr-reconcile sandbox CA")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def issue_leaf(
    ca_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
    ca_cert: x509.Certificate,
    common_name: str,
    *,
    server: bool = True,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A P-256 leaf signed by the CA, valid 825 days: for TLS on 127.0.0.1 and localhost
    (``server``), or for signing only (the data plane's token key, sent as ``x5c``)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    if server:
        san = x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
        )
        builder = builder.add_extension(san, critical=False).add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    return builder.sign(ca_key, hashes.SHA256()), key


def ensure_certs(state_dir: Path) -> CertPaths:
    """Create the CA, server certificate and client bundle once; later calls reuse them."""
    paths = cert_paths(state_dir)
    if not (paths.ca_cert.exists() and paths.ca_key.exists()):
        key, cert = make_ca()
        write_private(paths.ca_key, key_pem(key))
        paths.ca_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        paths.server_cert.unlink(missing_ok=True)
    if not paths.server_cert.exists():
        ca_key = serialization.load_pem_private_key(paths.ca_key.read_bytes(), None)
        assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
        ca_cert = x509.load_pem_x509_certificate(paths.ca_cert.read_bytes())
        cert, key = issue_leaf(ca_key, ca_cert, "acr-reconcile sandbox")
        write_private(paths.server_key, key_pem(key))
        paths.server_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_bundle(paths)
    return paths


def _write_bundle(paths: CertPaths) -> None:
    system = SYSTEM_BUNDLE.read_bytes() if SYSTEM_BUNDLE.exists() else b""
    if system and not system.endswith(b"\n"):
        system += b"\n"
    paths.bundle.write_bytes(system + paths.ca_cert.read_bytes())
