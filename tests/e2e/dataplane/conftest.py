"""One data plane (with the real servers) for this directory's tests, torn down at the end."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from acr_sandbox.dataplane.pki import create_ca
from tests.e2e.dataplane.dataplane_harness import DataPlaneHarness

BINARIES = ("docker-registry", "notary-server", "notary")


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
