"""The data plane on its own: a CA, an in-process Directory, and the DataPlane running on a
background event loop, with the real docker-registry and notary-server behind it.

Used where the test is about the data plane's own rules (scopes, isolation, restarts);
the flows through ARM and Entra ID run against the whole sandbox daemon instead.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from acr_reconcile.sandbox.contracts import DataPlaneConfig, RegistryRecord, SandboxPrincipal
from acr_reconcile.sandbox.dataplane import create_dataplane

T = TypeVar("T")
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000001"


def make_ca(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test sandbox CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
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
    cert_path, key_path = directory / "ca.crt", directory / "ca.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


@dataclass
class FakeDirectory:
    """Principals, secrets, bearer tokens and role grants the test sets directly."""

    principals: dict[str, SandboxPrincipal] = field(default_factory=dict)
    secrets: dict[tuple[str, str], str] = field(default_factory=dict)
    bearers: dict[str, str] = field(default_factory=dict)
    roles: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    registries: dict[str, RegistryRecord] = field(default_factory=dict)

    def add_principal(self, name: str, secret: str) -> SandboxPrincipal:
        index = len(self.principals) + 1
        principal = SandboxPrincipal(
            object_id=f"00000000-0000-0000-0000-{index:012d}",
            app_id=f"11111111-0000-0000-0000-{index:012d}",
            display_name=name,
            tenant_id=TENANT,
        )
        self.principals[principal.object_id] = principal
        assert principal.app_id is not None
        self.secrets[(principal.app_id, secret)] = principal.object_id
        return principal

    def grant(self, principal: SandboxPrincipal, scope: str, *guids: str) -> None:
        self.roles.setdefault((principal.object_id, scope.lower()), set()).update(guids)

    def revoke(self, principal: SandboxPrincipal, scope: str, guid: str) -> None:
        self.roles.get((principal.object_id, scope.lower()), set()).discard(guid)

    def authenticate_bearer(self, token: str) -> SandboxPrincipal | None:
        object_id = self.bearers.get(token)
        return self.principals.get(object_id) if object_id else None

    def authenticate_secret(self, app_id: str, secret: str) -> SandboxPrincipal | None:
        object_id = self.secrets.get((app_id, secret))
        return self.principals.get(object_id) if object_id else None

    def registry_for_login_server(self, login_server: str) -> RegistryRecord | None:
        return self.registries.get(login_server)

    def role_guids_for(self, object_id: str, scope: str) -> frozenset[str]:
        found: set[str] = set()
        for (oid, assigned), guids in self.roles.items():
            if oid == object_id and scope.lower().startswith(assigned):
                found |= guids
        return frozenset(found)


def registry_record(name: str) -> RegistryRecord:
    rid = (
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg/providers/"
        f"Microsoft.ContainerRegistry/registries/{name}"
    )
    return RegistryRecord(rid, name, SUBSCRIPTION, "rg", "")


class DataPlaneHarness:
    """A DataPlane on its own loop thread; ``run`` calls into it from test code."""

    def __init__(self, state_dir: Path, ca_cert: Path, ca_key: Path) -> None:
        self.state_dir = state_dir
        self.ca_cert = ca_cert
        self.directory = FakeDirectory()
        self.plane = create_dataplane(
            DataPlaneConfig(str(state_dir), ca_cert.read_text(), str(ca_key))
        )
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.run(self.plane.start(self.directory))

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=120)

    def create_registry(self, name: str) -> tuple[RegistryRecord, str]:
        record = registry_record(name)
        login_server = self.run(self.plane.registry_created(record))
        self.directory.registries[login_server] = record
        return record, login_server

    def close(self) -> None:
        try:
            self.run(self.plane.stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop.close()
