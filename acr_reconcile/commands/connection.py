"""The composition root: one connection to a cloud for a command run.

It wires the lower layers together (cloud endpoints and credential from ``azure``, the
cloud's rules and the registry/trust data plane from ``live``) and hands each command the
parts it needs. It sits with the commands because it is the only place that knows every
layer; nothing below ``commands`` imports it, so readers and handlers take just the
clients they use.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from acr_reconcile.azure.clients import AzureSession, RetryOptions
from acr_reconcile.azure.cloud import Cloud, ca_bundle, load_cloud
from acr_reconcile.azure.credentials import access_token, make_credential
from acr_reconcile.azure.graph import GraphClient
from acr_reconcile.live.platform import platform_rules
from acr_reconcile.live.state import PlatformRules

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

    from acr_reconcile.live.images import DataPlane


@dataclass
class Connection:
    cloud: Cloud
    rules: PlatformRules
    credential: TokenCredential
    session: AzureSession
    graph: GraphClient

    _data_plane: DataPlane | None = None

    def data_plane(self) -> DataPlane:
        """The registry/trust clients, made once, on first use: a plan of a spec without
        images never imports the trust code."""
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
    credential: TokenCredential | None = None,
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
