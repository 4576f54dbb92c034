"""The data plane seams of apply: publishing signatures and reading a tag's digest.

They are wired to the registry client and (once present) the Notary client of this
package. Without a Notary client, signature changes fail with a clear message; the
import re-check always works through the registry client.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from acr_reconcile.apply.context import SignaturePublisher, TagDigest

if TYPE_CHECKING:
    from acr_reconcile.azure.connect import Connection


@dataclass(frozen=True)
class DataPlaneSeams:
    publish: SignaturePublisher | None = None
    tag_digest: TagDigest | None = None


class RegistryClients:
    """One registry client per login server, sharing one ACR token source."""

    def __init__(self, connection: Connection) -> None:
        from acr_reconcile.live.registry import AcrTokenSource

        self._verify = connection.session.verify
        self._tokens = AcrTokenSource(connection.credential, verify=self._verify)
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def client(self, login_server: str) -> Any:
        from acr_reconcile.live.registry import RegistryClient

        with self._lock:
            if login_server not in self._clients:
                self._clients[login_server] = RegistryClient(
                    login_server, self._tokens, self._verify
                )
            return self._clients[login_server]

    def tag_digest(self, login_server: str, repository: str, tag: str) -> str | None:
        found = self.client(login_server).manifest(repository, tag)
        return str(found.digest) if found is not None else None


def data_plane_seams(connection: Connection) -> DataPlaneSeams:
    registries = RegistryClients(connection)
    return DataPlaneSeams(publish=None, tag_digest=registries.tag_digest)
