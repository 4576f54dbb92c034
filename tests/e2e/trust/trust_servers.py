"""Real servers for the trust tests: a throwaway PKI, notary-server (TLS, memory storage,
optionally token auth) on a free port, and the official notary CLI."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from acr_reconcile.trust import Passphrases, TrustClient

NOTARY_SERVER = "/usr/bin/notary-server"
NOTARY = "/usr/bin/notary"
SERVICE = "notary.test"
ISSUER = "issuer.test"
PASSPHRASES = {
    "NOTARY_ROOT_PASSPHRASE": "root-pass",
    "NOTARY_TARGETS_PASSPHRASE": "targets-pass",
    "NOTARY_SNAPSHOT_PASSPHRASE": "snapshot-pass",
    "NOTARY_DELEGATION_PASSPHRASE": "delegation-pass",
}


def require_binaries() -> None:
    missing = [b for b in (NOTARY_SERVER, NOTARY) if not shutil.which(b)]
    if missing:
        raise RuntimeError(f"missing {missing}: install the Debian package 'notary'")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Pki:
    ca: Path
    cert: Path
    key: Path
    token_key: ec.EllipticCurvePrivateKey
    token_cert_der: bytes


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[str, ec.EllipticCurvePrivateKey] | None,
    *,
    ca: bool,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    issuer_name, issuer_key = issuer or (subject, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        san = x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))])
        builder = builder.add_extension(san, critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def make_pki(directory: Path) -> Pki:
    """A throwaway CA, a 127.0.0.1 server certificate and a token-signing certificate."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("trust test CA", ca_key, None, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = _cert("127.0.0.1", server_key, ("trust test CA", ca_key), ca=False)
    token_key = ec.generate_private_key(ec.SECP256R1())
    token = _cert("token signer", token_key, ("trust test CA", ca_key), ca=False)
    pem = serialization.Encoding.PEM
    (directory / "ca.pem").write_bytes(ca.public_bytes(pem))
    (directory / "server.pem").write_bytes(server.public_bytes(pem))
    key_path = directory / "server.key"
    key_path.write_bytes(
        server_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_path.chmod(0o600)
    der = token.public_bytes(serialization.Encoding.DER)
    return Pki(directory / "ca.pem", directory / "server.pem", key_path, token_key, der)


def server_context(pki: Pki) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.cert, pki.key)
    return context


@dataclass
class NotaryServer:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_notary_server(
    directory: Path, pki: Pki, auth: dict[str, object] | None = None
) -> NotaryServer:
    """notary-server on a free port with in-memory storage; retried if the port was taken."""
    require_binaries()
    for _ in range(5):
        port = free_port()
        config: dict[str, object] = {
            "server": {
                "http_addr": f"127.0.0.1:{port}",
                "tls_cert_file": str(pki.cert),
                "tls_key_file": str(pki.key),
            },
            "trust_service": {
                "type": "local",
                "hostname": "",
                "port": "",
                "key_algorithm": "ecdsa",
            },
            "logging": {"level": "info"},
            "storage": {"backend": "memory"},
        }
        if auth:
            config["auth"] = auth
        config_path = directory / f"notary-server-{port}.json"
        config_path.write_text(json.dumps(config))
        log = directory / f"notary-server-{port}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [NOTARY_SERVER, "-config", str(config_path)],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=directory,
            )
        server = NotaryServer(f"https://127.0.0.1:{port}", process, log)
        if _wait_healthy(server, pki):
            return server
        server.stop()
    raise RuntimeError(f"notary-server did not start; see {log}")


def _wait_healthy(server: NotaryServer, pki: Pki) -> bool:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return False
        try:
            if requests.get(
                f"{server.url}/_notary_server/health", verify=str(pki.ca), timeout=2
            ).ok:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.05)
    return False


@dataclass
class NotaryCli:
    """The official notary CLI against one server, with one trust directory."""

    server: str
    ca: Path
    trust_dir: Path

    def run(
        self, *args: str, check: bool = True, answer: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.trust_dir.parent),
            **PASSPHRASES,
        }
        command = [
            NOTARY,
            "-s",
            self.server,
            "-d",
            str(self.trust_dir),
            "--tlscacert",
            str(self.ca),
            *args,
        ]
        result = subprocess.run(
            command,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            input=answer if answer is not None else "",
        )
        if check and result.returncode != 0:
            raise AssertionError(f"notary {' '.join(args)} failed: {result.stdout}{result.stderr}")
        return result

    def list(self, gun: str) -> dict[str, tuple[str, int, str]]:
        """tag -> (sha256 hex, size, role) from ``notary list``."""
        out = self.run("list", gun).stdout.splitlines()
        rows = [line.split() for line in out[2:] if line.strip()]
        return {r[0]: (r[1], int(r[2]), r[3]) for r in rows}


# Shared by the fixtures and the test modules. They live here, not in conftest.py: a
# test module importing "conftest" gets whichever conftest.py came first on sys.path.
TEST_PASSPHRASES = Passphrases(
    root=PASSPHRASES["NOTARY_ROOT_PASSPHRASE"],
    targets=PASSPHRASES["NOTARY_TARGETS_PASSPHRASE"],
    snapshot=PASSPHRASES["NOTARY_SNAPSHOT_PASSPHRASE"],
    delegation=PASSPHRASES["NOTARY_DELEGATION_PASSPHRASE"],
)
ClientFactory = Callable[..., TrustClient]
