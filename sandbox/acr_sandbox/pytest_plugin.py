"""The ``sandbox`` fixture, shared by the emulator's tests and the tool's end-to-end tests.

One sandbox daemon for the whole test session, in a temporary state dir on a free port,
in ``legacy`` content-trust mode (tests of today's rules switch it with
``sandbox.settings(dct="current")``). It fails loudly, never skips, when something the
sandbox needs is missing: a skipped end-to-end test would pass for a broken machine.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from acr_sandbox.testing import SandboxHandle, missing_parts


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
    missing = missing_parts()
    if missing:
        pytest.fail(
            "the sandbox cannot run: missing " + ", ".join(missing) + " (run 'make sysdeps')",
            pytrace=False,
        )
    state_dir = tmp_path_factory.mktemp("sandbox")
    try:
        handle = SandboxHandle.start(state_dir, dct="legacy")
    except Exception as error:
        log = state_dir / "daemon.log"
        tail = log.read_text()[-3000:] if log.exists() else ""
        pytest.fail(f"the sandbox did not start: {error}\n{tail}", pytrace=False)
    handle.settings(replication_lag=0.0, keyvault_rbac_delay=0.0)
    try:
        yield handle
    finally:
        handle.stop()
