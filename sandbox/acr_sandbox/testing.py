"""A running sandbox for tests, the emulator's own and the tool's: start/stop, the
`sandbox env` variables, real azure-identity credentials and real azure-mgmt clients
pointed at it (imported only when asked for, so the emulator does not depend on the
SDKs), and the admin API.

Tests get one daemon per session (``sandbox`` fixture in tests/conftest.py) and call
``reset_state()`` to start a module from a clean slate without restarting it.
"""

from __future__ import annotations

import json
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acr_sandbox import process
from acr_sandbox.commands import REQUIRED_BINARIES
from acr_sandbox.environment import env_vars

PACKAGES = {"/usr/bin/docker-registry": "docker-registry", "/usr/bin/notary-server": "notary"}


def missing_parts() -> list[str]:
    """What the sandbox needs but this machine lacks, named by Debian package."""
    missing = [
        f"{path} (Debian package '{package}')"
        for path, package in REQUIRED_BINARIES.items()
        if shutil.which(path) is None
    ]
    try:
        socket.getaddrinfo("probe.vault.localhost", 443, type=socket.SOCK_STREAM)
    except OSError:
        missing.append(
            "resolution of *.vault.localhost for Key Vault (Debian package "
            "'libnss-myhostname', 'myhostname' on the hosts: line of /etc/nsswitch.conf)"
        )
    return missing


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class SdkClients:
    resources: Any  # ResourceManagementClient
    registries: Any  # ContainerRegistryManagementClient
    authorization: Any  # AuthorizationManagementClient


class SandboxHandle:
    """One sandbox daemon in ``state_dir``; every method talks to it over HTTPS."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        env = env_vars(state_dir)
        self._env = env
        self.arm_url = env["AZURE_AUTHORITY_HOST"]
        self.metadata_host = env["ARM_METADATA_HOSTNAME"]
        self.ca_bundle = env["REQUESTS_CA_BUNDLE"]
        self.tenant_id = env["AZURE_TENANT_ID"]
        self.subscription_id = env["AZURE_SUBSCRIPTION_ID"]
        self.client_id = env["AZURE_CLIENT_ID"]
        self.client_secret = env["AZURE_CLIENT_SECRET"]
        # SDK objects handed out, closed at stop() so no socket is left to the GC
        self._opened: list[Any] = []

    # -- lifecycle -----------------------------------------------------------------------
    @classmethod
    def start(cls, state_dir: Path, *, dct: str = "legacy") -> SandboxHandle:
        missing = missing_parts()
        if missing:
            raise RuntimeError("the sandbox needs " + ", ".join(missing))
        process.start(state_dir, port=free_port(), dct=dct)
        return cls(state_dir)

    def stop(self) -> None:
        self.close_clients()
        process.stop(self.state_dir)

    def close_clients(self) -> None:
        """Close every credential and client this handle built."""
        while self._opened:
            self._opened.pop().close()

    # -- client side -----------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        """Exactly the variables `acr-reconcile sandbox env` exports."""
        return dict(self._env)

    def credential(self) -> Any:
        from azure.identity import ClientSecretCredential

        credential = ClientSecretCredential(
            self.tenant_id,
            self.client_id,
            self.client_secret,
            authority=self.arm_url,
            disable_instance_discovery=True,
            connection_verify=self.ca_bundle,
        )
        self._opened.append(credential)
        return credential

    def _mgmt_arguments(
        self, credential: Any, options: dict[str, Any]
    ) -> tuple[Any, str, dict[str, Any]]:
        """(credential, subscription, client options) every mgmt client here is built with:
        the sandbox's endpoint and CA, polling without sleeping, ``options`` on top; a
        credential handed in is closed with the handle like one made here."""
        sub = options.pop("subscription_id", None) or self.subscription_id
        common: dict[str, Any] = {
            "base_url": self.arm_url,
            "connection_verify": self.ca_bundle,
            "polling_interval": 0,
            "retry_backoff_factor": 0.05,
        } | options
        if credential is None:
            credential = self.credential()
        elif credential not in self._opened:
            self._opened.append(credential)
        return credential, str(sub), common

    def clients(self, credential: Any = None, **options: Any) -> SdkClients:
        """The three real mgmt clients; ``options`` (retry_total, polling_interval, ...,
        subscription_id) override the defaults, which poll without sleeping."""
        from azure.mgmt.authorization import AuthorizationManagementClient
        from azure.mgmt.containerregistry import ContainerRegistryManagementClient
        from azure.mgmt.resource.resources import ResourceManagementClient

        credential, sub, common = self._mgmt_arguments(credential, options)
        clients = SdkClients(
            resources=ResourceManagementClient(credential, sub, **common),
            registries=ContainerRegistryManagementClient(credential, sub, **common),
            authorization=AuthorizationManagementClient(credential, sub, **common),
        )
        self._opened += [clients.resources, clients.registries, clients.authorization]
        return clients

    def keyvault_client(self, credential: Any = None, **options: Any) -> Any:
        """The real KeyVaultManagementClient (azure-mgmt-keyvault), same defaults as
        ``clients()``."""
        from azure.mgmt.keyvault import KeyVaultManagementClient

        credential, sub, common = self._mgmt_arguments(credential, options)
        client = KeyVaultManagementClient(credential, sub, **common)
        self._opened.append(client)
        return client

    # -- admin API -------------------------------------------------------------------------
    def admin(self, method: str, path: str, body: Any = None) -> Any:
        return process.admin(self.state_dir, method, path, body)

    def set_faults(self, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Rules: method/path regexes, count, probability, latencyMs, status (429|500|503),
        retryAfter, reset, lro ('failed'), errorCode/errorMessage, provisioningPolls, plane
        ('control' by default; 'data' for the registries' loginServers)."""
        result: list[dict[str, Any]] = self.admin("POST", "/_sandbox/faults", rules)["rules"]
        return result

    def faults(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.admin("GET", "/_sandbox/faults")["rules"]
        return result

    def clear_faults(self) -> None:
        self.admin("DELETE", "/_sandbox/faults")

    def requests(self, arm_only: bool = False, data_plane: bool = False) -> list[dict[str, Any]]:
        """Request log entries: time, method, path, apiVersion, status, durationMs, fault.
        ``arm_only`` leaves out Entra token and discovery calls; ``data_plane`` adds the
        loginServers' requests (``plane: "data"``, ``loginServer``)."""
        path = "/_sandbox/requests" + ("?plane=all" if data_plane and not arm_only else "")
        result: list[dict[str, Any]] = self.admin("GET", path)["requests"]
        if arm_only:
            return [e for e in result if e["path"].lower().startswith("/subscriptions")]
        return result

    def clear_requests(self) -> None:
        self.admin("POST", "/_sandbox/requests/clear")

    def settings(self, **changes: Any) -> dict[str, Any]:
        """Read or change settings: dct ('current'|'legacy'), replicationLagSeconds,
        pageSize, lroPolls, lroRetryAfter, tokenLifetimeSeconds, throttle={...},
        keyVaultRbacDelaySeconds, keyVaultThrottle={...}. Python names work too:
        replication_lag, page_size, lro_polls, lro_retry_after, keyvault_rbac_delay,
        keyvault_throttle."""
        aliases = {
            "replication_lag": "replicationLagSeconds",
            "page_size": "pageSize",
            "lro_polls": "lroPolls",
            "lro_retry_after": "lroRetryAfter",
            "token_lifetime": "tokenLifetimeSeconds",
            "keyvault_rbac_delay": "keyVaultRbacDelaySeconds",
            "keyvault_throttle": "keyVaultThrottle",
        }
        body = {aliases.get(k, k): v for k, v in changes.items()}
        if not body:
            result: dict[str, Any] = self.admin("GET", "/_sandbox/settings")
            return result
        changed: dict[str, Any] = self.admin("POST", "/_sandbox/settings", body)
        return changed

    def add_principal(
        self, name: str, principal_type: str = "ServicePrincipal"
    ) -> tuple[str, str, str]:
        """A new principal: (appId, objectId, secret); users and groups get no app/secret."""
        created = self.admin(
            "POST", "/_sandbox/principals", {"displayName": name, "type": principal_type}
        )
        return str(created["appId"]), str(created["objectId"]), str(created["secret"])

    def add_subscription(self, subscription_id: str | None = None, name: str = "") -> str:
        """Another subscription, owned by the seeded owner; returns its id."""
        body = {"subscriptionId": subscription_id, "displayName": name or None}
        created = self.admin("POST", "/_sandbox/subscriptions", body)
        return str(created["subscriptionId"])

    def clients_for(self, subscription_id: str, **options: Any) -> SdkClients:
        """The mgmt clients bound to another subscription."""
        return self.clients(subscription_id=subscription_id, **options)

    def add_federated_credential(
        self, object_id: str, issuer: str, subject: str, public_key_pem: str
    ) -> None:
        self.admin(
            "POST",
            f"/_sandbox/principals/{object_id}/federatedCredentials",
            {"issuer": issuer, "subject": subject, "publicKeyPem": public_key_pem},
        )

    def reset_state(self) -> None:
        """Wipe resource groups, registries, role assignments, faults (principals stay)."""
        self.admin("POST", "/_sandbox/reset")

    def status(self) -> dict[str, Any]:
        result: dict[str, Any] = self.admin("GET", "/_sandbox/status")
        return result

    def state(self) -> dict[str, Any]:
        """The persisted state document (as last flushed to disk)."""
        result: dict[str, Any] = json.loads((self.state_dir / "state.json").read_text())
        return result

    def signer(self) -> tuple[str, str]:
        """The seeded walkthrough signer (DavidServiceAccount): (appId, secret)."""
        secret = (self.state_dir / "secrets" / "DavidServiceAccount.secret").read_text().strip()
        return "11111111-1111-1111-1111-111111111111", secret
