"""The seam between the sandbox's control plane (ARM, Entra ID, Graph) and its data plane
(ACR token service, loginServer proxy, docker-registry and notary-server processes).

Both halves run in one sandbox daemon process on one asyncio loop. The control plane owns
the state (principals, registries, role assignments) and calls the data plane when a
registry appears or goes, or when ARM ``importImage`` runs. The data plane asks the
control plane, at the moment of each token request, who a caller is and which roles it
holds, so scopes always follow the role assignments made and removed through ARM.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class SandboxPrincipal:
    object_id: str
    app_id: str | None
    display_name: str
    tenant_id: str
    principal_type: str = "ServicePrincipal"


@dataclass(frozen=True)
class RegistryRecord:
    id: str  # full ARM id of the registry
    name: str
    subscription_id: str
    resource_group: str
    login_server: str  # "127.0.0.1:PORT"; empty until the data plane assigned one
    # properties.encryption.status == "enabled": as on ACR, such a registry has no
    # OCI referrers API (clients use the referrers tag schema)
    customer_managed_key: bool = False


@dataclass(frozen=True)
class DataPlaneFault:
    """What the control plane's fault rules (plane ``data``) do to one loginServer request."""

    latency_ms: int = 0
    status: int | None = None  # 429, 500 or 503, in the registry's error format
    retry_after: int = 1
    reset: bool = False  # drop the connection without an answer


# asked on every loginServer request with (method, path); None: no rule fired
FaultHook = Callable[[str, str], DataPlaneFault | None]

# takes one request log entry of a loginServer request (the control plane's request log)
RequestRecorder = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class DataPlaneConfig:
    """What the daemon hands the data plane when it creates it."""

    state_dir: str  # the data plane keeps its files under state_dir/dataplane
    ca_cert: str  # PEM of the sandbox CA (trusted by every sandbox client)
    ca_key: str  # PEM path of the CA key (0600), to issue per-server TLS certificates
    host: str = "127.0.0.1"
    faults: FaultHook | None = None
    record: RequestRecorder | None = None


@dataclass(frozen=True)
class PartStatus:
    name: str  # e.g. "arm", "registry registrydavid (docker-registry)", "notary-server"
    healthy: bool
    detail: str  # pid, address, or why not healthy


class ImportFailed(Exception):
    """importImage could not copy; ``code``/``message`` become the LRO's ARM error."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


class Directory(Protocol):
    """What the data plane may ask the control plane. All calls are cheap and synchronous."""

    def authenticate_bearer(self, token: str) -> SandboxPrincipal | None:
        """A principal for a valid, unexpired Entra access token issued by the sandbox."""
        ...

    def authenticate_secret(self, app_id: str, secret: str) -> SandboxPrincipal | None:
        """A service principal for its appId and one of its client secrets."""
        ...

    def registry_for_login_server(self, login_server: str) -> RegistryRecord | None: ...

    def role_guids_for(self, object_id: str, scope: str) -> frozenset[str]:
        """Lower-case role definition GUIDs assigned to ``object_id`` at ``scope`` or above."""
        ...


class DataPlane(Protocol):
    """What the control plane calls on the data plane."""

    async def start(self, directory: Directory) -> None: ...

    async def stop(self) -> None: ...

    async def registry_created(self, registry: RegistryRecord) -> str:
        """Serve the registry; return its login server (``127.0.0.1:PORT``), stable
        across restarts."""
        ...

    async def registry_deleted(self, registry: RegistryRecord) -> None:
        """Stop serving the registry and delete its content (images and trust data)."""
        ...

    async def import_image(
        self,
        target: RegistryRecord,
        *,
        source_login_server: str | None,
        source_image: str,
        target_tags: list[str],
        force: bool,
    ) -> None:
        """Copy a tag (manifest and blobs) into ``target``; raise ImportFailed on refusal."""
        ...

    def status(self) -> list[PartStatus]: ...
