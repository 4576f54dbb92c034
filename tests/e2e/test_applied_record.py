"""The ``acr-reconcile.applied`` tag is written only after every change of its target
succeeded: a failed import in a new registry's apply leaves it unwritten, so the drift
cron job's ``plan --detailed-exitcode --fail-on drift`` does not raise a false alarm."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from acr_reconcile.live.state import APPLIED_TAG
from acr_sandbox.testing import SandboxHandle
from tests.e2e.plan_apply_support import REGISTRY, RG, Cli, Walkthrough, sdk

pytestmark = pytest.mark.e2e
NAME = "registryhalfway"


def _tags(sandbox: SandboxHandle) -> dict[str, str]:
    with sdk(sandbox) as clients:
        return dict(clients.registries.registries.get(RG, NAME).tags or {})


def test_a_failed_import_in_a_new_registry_is_not_recorded_as_applied(
    cli: Cli, walkthrough: Walkthrough, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    good = walkthrough.spec.read_text().replace(f"name: {REGISTRY}", f"name: {NAME}")
    missing = walkthrough.source.rsplit("/", 1)[0] + "/no-such-image:latest"
    spec = tmp_path / "halfway.yaml"
    spec.write_text(good.replace(walkthrough.source, missing))

    failed = cli("apply", spec, "--auto-approve")
    assert failed.code == 1, failed.text
    assert "import" in failed.text.lower()

    cron = cli("plan", spec, "--detailed-exitcode", "--fail-on", "drift", "--output", "json")
    reasons = {c["reason"] for c in json.loads(cron.out)["changes"] if c["action"] != "no-op"}
    assert reasons and "drift" not in reasons, reasons
    assert cron.code == 0, cron.text
    assert APPLIED_TAG not in _tags(sandbox)  # the registry exists, the spec is not applied

    spec.write_text(good)
    fixed = cli("apply", spec, "--auto-approve")
    assert fixed.code == 0, fixed.text
    assert APPLIED_TAG in _tags(sandbox)
    assert cli("plan", spec, "--detailed-exitcode").code == 0
