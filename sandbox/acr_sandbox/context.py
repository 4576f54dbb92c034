"""Everything the sandbox's handlers share, reachable from any request as ``ctx(request)``."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from acr_sandbox.contracts import DataPlane
from acr_sandbox.faults import FaultInjector
from acr_sandbox.requestlog import RequestLog
from acr_sandbox.state import Store
from acr_sandbox.throttle import Throttle

ARM_AUDIENCES = ("https://management.azure.com/", "https://management.core.windows.net/")
GRAPH_AUDIENCE = "https://graph.microsoft.com/"


@dataclass
class Sandbox:
    store: Store
    signing_key: rsa.RSAPrivateKey
    base_url: str  # https://127.0.0.1:PORT, no trailing slash
    admin_token: str
    dataplane: DataPlane
    faults: FaultInjector
    throttle: Throttle
    requests: RequestLog
    operations: dict[str, dict[str, Any]] = field(default_factory=dict)
    started_at: float = field(default_factory=time.time)
    # planes served beside ARM, by name (the Key Vault data plane), built on first use
    planes: dict[str, Any] = field(default_factory=dict)

    @property
    def state_dir(self) -> Path:
        return self.store.state_dir

    @property
    def tenant_id(self) -> str:
        return self.store.tenant_id

    @property
    def settings(self) -> dict[str, Any]:
        return self.store.settings

    def arm_audiences(self) -> tuple[str, ...]:
        return (*ARM_AUDIENCES, f"{self.base_url}/")

    def graph_audiences(self) -> tuple[str, ...]:
        return (GRAPH_AUDIENCE, f"{self.base_url}/", f"{self.base_url}/graph/")


SANDBOX_KEY: web.AppKey[Sandbox] = web.AppKey("sandbox", Sandbox)


def ctx(request: web.Request) -> Sandbox:
    return request.app[SANDBOX_KEY]


def load_admin_token(state_dir: Path) -> str:
    """The admin token: a random value in a 0600 file, separate from any Entra identity."""
    from acr_sandbox.certs import write_private

    path = state_dir / "admin.token"
    if not path.exists():
        write_private(path, secrets.token_urlsafe(32).encode())
    return path.read_text().strip()
