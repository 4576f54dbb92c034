"""apply under injected faults: throttling, server errors, connection resets, failed
long-running operations and Entra replication lag converge in one run, without duplicate
role assignments; a terminal failure skips only its dependents, and a re-run converges.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.plan_apply_support import (
    Cli,
    Walkthrough,
    acr_assignments,
    cli_runner,
    make_walkthrough,
    sdk,
)
from tests.support.sandbox import SandboxHandle

pytestmark = pytest.mark.e2e

REGISTRY_PATH = r".*/registries/registrydavid"
TRANSIENT_FAULTS = [
    {"method": "GET", "path": r".*/resourcegroups", "status": 429, "retryAfter": 1, "count": 2},
    {"method": "GET", "path": r".*/registries", "reset": True, "count": 1},
    {"method": "PUT", "path": REGISTRY_PATH, "lro": "failed", "count": 1},
    {"method": "PATCH", "path": REGISTRY_PATH, "status": 503, "retryAfter": 1, "count": 1},
    {"method": "PUT", "path": r".*/roleAssignments/.*", "status": 503, "count": 2},
    {"method": "POST", "path": r".*/importImage", "status": 429, "retryAfter": 1, "count": 1},
]


@pytest.fixture(scope="module")
def walkthrough(
    sandbox: SandboxHandle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Walkthrough]:
    yield make_walkthrough(sandbox, tmp_path_factory.mktemp("faults"))
    sandbox.clear_faults()
    sandbox.settings(replication_lag=0.0)


@pytest.fixture
def cli(
    walkthrough: Walkthrough,
    sandbox: SandboxHandle,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[Cli]:
    sandbox.reset_state()
    walkthrough = make_walkthrough(sandbox, walkthrough.spec.parent)
    yield cli_runner(walkthrough.env, monkeypatch, capsys)
    sandbox.clear_faults()


def _no_duplicates(sandbox: SandboxHandle) -> None:
    pairs = Counter(
        (a.principal_id, a.role_definition_id.lower()) for a in acr_assignments(sandbox)
    )
    assert len(pairs) == 2 and set(pairs.values()) == {1}, pairs


def test_transient_faults_and_replication_lag_converge_in_one_apply(
    cli: Cli, walkthrough: Walkthrough, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    app_id, _, _ = sandbox.add_principal("FreshSigner")
    spec = tmp_path / "fresh-signer.yaml"
    spec.write_text(
        walkthrough.spec.read_text().replace("displayName: DavidServiceAccount", f"appId: {app_id}")
    )
    sandbox.settings(replication_lag=10.0)
    sandbox.set_faults(TRANSIENT_FAULTS)
    applied = cli("apply", spec, "--auto-approve")
    assert applied.code == 0, applied.text
    fired = {(r["method"], r["path"]): r["fired"] for r in sandbox.faults()}
    assert all(count >= 1 for count in fired.values()), fired
    role_puts = [
        e["status"]
        for e in sandbox.requests()
        if e["method"] == "PUT" and "/roleAssignments/" in e["path"]
    ]
    assert 400 in role_puts and role_puts.count(201) == 2  # PrincipalNotFound, then created
    sandbox.clear_faults()
    assert cli("plan", spec, "--detailed-exitcode").code == 0
    _no_duplicates(sandbox)


def test_terminal_failure_skips_dependents_only_and_a_rerun_converges(
    cli: Cli, walkthrough: Walkthrough, sandbox: SandboxHandle
) -> None:
    sandbox.set_faults(
        [{"method": "PUT", "path": REGISTRY_PATH, "lro": "failed", "errorCode": "QuotaExceeded"}]
    )
    failed = cli("apply", walkthrough.spec, "--auto-approve")
    assert failed.code == 1
    assert "QuotaExceeded" in failed.err
    assert "Apply finished: 1 done, 1 failed, 6 skipped." in failed.out
    skipped_line = next(line for line in failed.err.splitlines() if "skipped 6" in line)
    dependents = skipped_line.split(": ", 1)[1].split(", ")
    assert len(set(dependents)) == 6  # each dependent reported once
    assert "role AcrPush" not in failed.out.split("Plan:")[1]  # never started
    with sdk(sandbox) as clients:  # independent work was done
        assert clients.resources.resource_groups.check_existence("resourcegroupdavid")
    sandbox.clear_faults()
    rerun = cli("apply", walkthrough.spec, "--auto-approve")
    assert rerun.code == 0, rerun.text
    assert cli("plan", walkthrough.spec, "--detailed-exitcode").code == 0
    _no_duplicates(sandbox)
