"""SDK clients for one cloud and credential, built once per subscription and shared.

The SDK's own retry policy stays on: it honours ``Retry-After`` on 429 and 5xx and
retries connection resets. Totals are bounded so a broken endpoint fails in seconds to
minutes, not the SDK default's quarter hour. SDK types never leave ``live/`` and
``apply/``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from acr_reconcile.azure.cloud import Cloud, ca_bundle


@dataclass(frozen=True)
class RetryOptions:
    """Bounds for the SDK's retry policy and long-running-operation polling."""

    total: int = 6
    backoff_factor: float = 0.5
    backoff_max: float = 20.0
    polling_interval: float = 1.0  # only when the service sends no Retry-After
    timeout: float = 60.0  # per request (connect and read)

    def kwargs(self) -> dict[str, Any]:
        return {
            "retry_total": self.total,
            "retry_backoff_factor": self.backoff_factor,
            "retry_backoff_max": self.backoff_max,
            "polling_interval": self.polling_interval,
            "connection_timeout": self.timeout,
            "read_timeout": self.timeout,
        }


class AzureSession:
    """Shared clients: one per (kind, subscription), safe to use from worker threads."""

    def __init__(
        self,
        cloud: Cloud,
        credential: Any,
        *,
        retry: RetryOptions | None = None,
        verify: str | bool | None = None,
    ) -> None:
        self.cloud = cloud
        self.credential = credential
        self.retry = retry or RetryOptions()
        self.verify = ca_bundle() if verify is None else verify
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def _common(self) -> dict[str, Any]:
        return {
            "base_url": self.cloud.resource_manager,
            "credential_scopes": [self.cloud.arm_scope],
            "connection_verify": self.verify,
            "per_retry_policies": [_pin(self.cloud.resource_manager)],
            **self.retry.kwargs(),
        }

    def _get(self, kind: str, subscription_id: str) -> Any:
        key = (kind, subscription_id.lower())
        with self._lock:
            client = self._clients.get(key)
            if client is None and kind == "certificates":
                from azure.keyvault.certificates import CertificateClient

                client = CertificateClient(
                    subscription_id, self.credential, **self.data_plane_options(subscription_id)
                )
                self._clients[key] = client
            elif client is None:
                client = _construct(kind, self.credential, subscription_id, self._common())
                self._clients[key] = client
            return client

    def resources(self, subscription_id: str) -> Any:
        """``azure.mgmt.resource.resources.ResourceManagementClient``."""
        return self._get("resources", subscription_id)

    def registries(self, subscription_id: str) -> Any:
        """``azure.mgmt.containerregistry.ContainerRegistryManagementClient``."""
        return self._get("containerregistry", subscription_id)

    def authorization(self, subscription_id: str) -> Any:
        """``azure.mgmt.authorization.AuthorizationManagementClient``."""
        return self._get("authorization", subscription_id)

    def keyvault(self, subscription_id: str) -> Any:
        """``azure.mgmt.keyvault.KeyVaultManagementClient`` (vaults on ARM)."""
        return self._get("keyvault", subscription_id)

    def certificates(self, vault_url: str) -> Any:
        """``azure.keyvault.certificates.CertificateClient`` of one vault's data plane.

        Key Vault's own challenge policy finds tenant and scope from the vault's 401, so
        only the credential, the CA bundle and the retry bounds are given."""
        return self._get("certificates", vault_url.rstrip("/").lower())

    def data_plane_options(self, url: str | None = None) -> dict[str, Any]:
        """Options for a Key Vault data-plane client: the CA bundle and retry bounds (no
        ARM base URL or scope: the vault's challenge names them); with ``url``, the
        client's requests are pinned to that URL's host."""
        options = {k: v for k, v in self.retry.kwargs().items() if k != "polling_interval"}
        pin = {"per_retry_policies": [_pin(url)]} if url else {}
        return {"connection_verify": self.verify, **pin, **options}

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()


def _pin(url: str) -> Any:
    # imported on use: azure-core is not loaded by commands that never call Azure
    from acr_reconcile.azure.host_pin import HostPinPolicy

    return HostPinPolicy(url)


def _construct(kind: str, credential: Any, subscription_id: str, common: dict[str, Any]) -> Any:
    if kind == "resources":
        from azure.mgmt.resource.resources import ResourceManagementClient

        return ResourceManagementClient(credential, subscription_id, **common)
    if kind == "containerregistry":
        from azure.mgmt.containerregistry import ContainerRegistryManagementClient

        return ContainerRegistryManagementClient(credential, subscription_id, **common)
    if kind == "keyvault":
        from azure.mgmt.keyvault import KeyVaultManagementClient

        return KeyVaultManagementClient(credential, subscription_id, **common)
    from azure.mgmt.authorization import AuthorizationManagementClient

    return AuthorizationManagementClient(credential, subscription_id, **common)
