"""One connection to a cloud for a command run: endpoints, rules, credential, clients."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from acr_reconcile.azure.clients import AzureSession, RetryOptions
from acr_reconcile.azure.cloud import Cloud, ca_bundle, load_cloud, platform_rules
from acr_reconcile.azure.credentials import access_token, make_credential
from acr_reconcile.azure.graph import GraphClient
from acr_reconcile.live.state import PlatformRules


@dataclass
class Connection:
    cloud: Cloud
    rules: PlatformRules
    credential: Any
    session: AzureSession
    graph: GraphClient

    _data_plane: Any = None

    def data_plane(self) -> Any:
        """The registry/trust clients (``acr_reconcile.live.images.DataPlane``), made once."""
        if self._data_plane is None:
            from acr_reconcile.live.images import DataPlane

            self._data_plane = DataPlane(
                self.credential, self.session.verify, entra_scope=self.cloud.arm_scope
            )
        return self._data_plane

    def close(self) -> None:
        if self._data_plane is not None:
            self._data_plane.close()
        self.session.close()
        self.graph.close()
        close = getattr(self.credential, "close", None)
        if close:
            close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def quiet_sdk_logs() -> None:
    """Keep azure-identity's per-credential warnings off stderr; our errors say what failed."""
    import logging

    azure = logging.getLogger("azure")
    if not azure.handlers:
        azure.addHandler(logging.NullHandler())


def connect(
    env: Mapping[str, str] | None = None,
    *,
    retry: RetryOptions | None = None,
    credential: Any = None,
    today: date | None = None,
) -> Connection:
    """Discover the cloud, build the credential and the clients every read and write shares.

    A first token is fetched here, so a missing or wrong credential is one clear error
    before any read, not the same failure from every concurrent reader.
    """
    env = os.environ if env is None else env
    quiet_sdk_logs()
    cloud = load_cloud(env)
    credential = credential or make_credential(cloud, env)
    access_token(credential, cloud.arm_scope)
    verify = ca_bundle(env)
    retry = retry or RetryOptions()
    return Connection(
        cloud=cloud,
        rules=platform_rules(cloud, today),
        credential=credential,
        session=AzureSession(cloud, credential, retry=retry, verify=verify),
        graph=GraphClient(cloud, credential, verify, retry),
    )
