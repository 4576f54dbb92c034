"""Fixtures the plan/apply end-to-end modules share: the walkthrough set up once per
module on the session sandbox, and an in-process CLI runner with its environment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from acr_sandbox.testing import SandboxHandle
from tests.e2e.plan_apply_support import Cli, Walkthrough, cli_runner, make_walkthrough


@pytest.fixture(scope="module")
def walkthrough(
    sandbox: SandboxHandle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Walkthrough]:
    """The walkthrough spec, keys and passphrases on a clean sandbox (legacy DCT rules)."""
    yield make_walkthrough(sandbox, tmp_path_factory.mktemp("walkthrough"))
    sandbox.settings(dct="legacy")


@pytest.fixture
def cli(
    walkthrough: Walkthrough,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Cli:
    return cli_runner(walkthrough.env, monkeypatch, capsys)
