"""One data plane (with the real servers) for this directory's tests, torn down at the end."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from dataplane_harness import DataPlaneHarness

from acr_reconcile.sandbox.dataplane.pki import create_ca

BINARIES = ("docker-registry", "notary-server", "notary")


class BearerCredential:
    """Hands out one fixed Entra-style token: the data plane's own tests stand in for Entra."""

    def __init__(self, token: str) -> None:
        self._token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self._token, int(time.time()) + 3600)


@pytest.fixture(scope="session")
def dataplane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DataPlaneHarness]:
    missing = [b for b in BINARIES if shutil.which(b) is None]
    if missing:
        pytest.fail(f"missing {missing}: install the Debian packages docker-registry, notary")
    root: Path = tmp_path_factory.mktemp("dataplane")
    ca_cert, ca_key = create_ca(root)
    harness = DataPlaneHarness(root / "state", ca_cert, ca_key)
    yield harness
    harness.close()
