"""The data plane on its own: a CA, an in-process Directory, and the DataPlane running on a
background event loop, with the real docker-registry and notary-server behind it.

Used where the test is about the data plane's own rules (scopes, isolation, restarts);
the flows through ARM and Entra ID run against the whole sandbox daemon instead.
"""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from azure.core.credentials import AccessToken

from acr_reconcile.registry.acr_auth import AcrTokenSource
from acr_reconcile.registry.client import RegistryClient
from acr_sandbox.contracts import DataPlaneConfig, RegistryRecord, SandboxPrincipal
from acr_sandbox.dataplane import create_dataplane

T = TypeVar("T")
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000001"


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
        self.ca_key = ca_key
        self.directory = FakeDirectory()
        self.plane = create_dataplane(
            DataPlaneConfig(str(state_dir), ca_cert.read_text(), str(ca_key))
        )
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._opened: list[Any] = []
        self.run(self.plane.start(self.directory))

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=120)

    def create_registry(self, name: str) -> tuple[RegistryRecord, str]:
        record = registry_record(name)
        login_server = self.run(self.plane.registry_created(record))
        self.directory.registries[login_server] = record
        return record, login_server

    def track(self, opened: T) -> T:
        """Closed before the data plane stops: an idle client connection would otherwise
        hold the server's TLS shutdown open past the end of the loop."""
        self._opened.append(opened)
        return opened

    def client(self, login_server: str, object_id: str) -> RegistryClient:
        """The tool's registry client for ``object_id``, through the exchange flow."""
        bearer = f"entra-{object_id}"
        self.directory.bearers[bearer] = object_id
        source = self.track(AcrTokenSource(BearerCredential(bearer), verify=str(self.ca_cert)))
        return self.track(RegistryClient(login_server, source, verify=str(self.ca_cert)))

    def close(self) -> None:
        while self._opened:
            self._opened.pop().close()
        try:
            self.run(self.plane.stop())
            self.run(asyncio.sleep(0.05))  # let closed transports release their sockets
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop.close()


def run_notary(
    login_server: str, ca_cert: Path, trust_dir: Path, credentials: str | None, *args: str
) -> subprocess.CompletedProcess[str]:
    """The official notary CLI, non-interactive; ``credentials`` is ``user:password``."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(trust_dir),
        "NOTARY_ROOT_PASSPHRASE": "root passphrase for tests",
        "NOTARY_TARGETS_PASSPHRASE": "targets passphrase for tests",
        "NOTARY_SNAPSHOT_PASSPHRASE": "snapshot passphrase for tests",
    }
    if credentials is not None:
        env["NOTARY_AUTH"] = base64.b64encode(credentials.encode()).decode()
    argv = ["notary", "-s", f"https://{login_server}", "-d", str(trust_dir)]
    argv += ["--tlscacert", str(ca_cert), *args]
    return subprocess.run(
        argv, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120
    )


class BearerCredential:
    """Hands out one fixed Entra-style token: the data plane's own tests stand in for Entra."""

    def __init__(self, token: str) -> None:
        self._token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self._token, int(time.time()) + 3600)
