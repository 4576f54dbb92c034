"""Peer tests: the real az CLI against the session sandbox, unchanged and configured the
way docs/sandbox.md tells a user. They fail (never skip) when the CLI is not installed."""

from __future__ import annotations

import pytest

from acr_sandbox.testing import SandboxHandle
from tests.peer.azcli import AzCli, az_executable


@pytest.fixture(scope="session")
def az(sandbox: SandboxHandle, tmp_path_factory: pytest.TempPathFactory) -> AzCli:
    """az signed in to the sandbox as its seeded owner, in a config dir of its own."""
    executable = az_executable()
    if not executable.exists():
        pytest.fail(f"the az CLI is missing at {executable} (run 'make az-cli')", pytrace=False)
    cli = AzCli(executable, tmp_path_factory.mktemp("azure-config"), sandbox.ca_bundle)
    cli.sign_in(sandbox.arm_url, sandbox.tenant_id, sandbox.client_id, sandbox.client_secret)
    return cli
