"""The ``sandbox`` fixture, shared by the emulator's tests and the tool's end-to-end tests.

One sandbox daemon for the whole test session, in a temporary state dir on a free port,
in ``legacy`` content-trust mode (tests of today's rules switch it with
``sandbox.settings(dct="current")``). It fails loudly, never skips, when something the
sandbox needs is missing: a skipped end-to-end test would pass for a broken machine.

``sandbox_in_process`` is the same sandbox served from a thread of the test process
(``acr_sandbox.inprocess``), for fast tests of one piece against real HTTPS and real
SDK clients; it is a separate instance, so the two never share state.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from acr_sandbox.testing import SandboxHandle, free_port, missing_parts


def _require_parts() -> None:
    missing = missing_parts()
    if missing:
        pytest.fail(
            "the sandbox cannot run: missing " + ", ".join(missing) + " (run 'make sysdeps')",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
    _require_parts()
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


@pytest.fixture(scope="session")
def sandbox_in_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
    from acr_sandbox.inprocess import InProcessSandbox

    _require_parts()
    state_dir = tmp_path_factory.mktemp("sandbox-in-process")
    served = InProcessSandbox(state_dir, port=free_port(), dct="legacy")
    try:
        served.start()
    except Exception as error:
        pytest.fail(f"the in-process sandbox did not start: {error}", pytrace=False)
    handle = SandboxHandle(state_dir)
    handle.settings(replication_lag=0.0)
    try:
        yield handle
    finally:
        handle.close_clients()
        # what tests dropped but a reference cycle keeps (an exception kept by pytest.raises
        # holds its SDK response and that its socket) goes first: a server-side TLS
        # shutdown waits for the client, so an open client socket would outlive the loop
        gc.collect()
        served.stop()
