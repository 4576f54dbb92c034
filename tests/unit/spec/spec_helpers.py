"""Helpers shared by the spec tests (imported by name: the test directory is on sys.path)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

import acr_reconcile.console as console
from acr_reconcile.cli import main

VALID = """\
apiVersion: acr-reconcile/v1
kind: RegistryTrust
subscriptionId: 00000000-0000-0000-0000-000000000000
resourceGroup:
  name: resourcegroupdavid
  location: westeurope
registry:
  name: registrydavid
  sku: Premium
  contentTrust: enabled
signers:
  - name: david
    principal: {displayName: DavidServiceAccount}
    roles: [AcrImageSigner, AcrPush]
images:
  - repository: hello-world
    tags: [signed]
"""


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


class Cli:
    """Runs the CLI in-process, as ``python -m acr_reconcile`` would, capturing output."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def __call__(self, *argv: str) -> Run:
        # The consoles are cached per process and bound to the streams of their first use.
        console.stdout.cache_clear()
        console.stderr.cache_clear()
        try:
            code = main(list(argv))
        finally:
            console.stdout.cache_clear()
            console.stderr.cache_clear()
        captured = self.capsys.readouterr()
        return Run(code, captured.out, captured.err)
