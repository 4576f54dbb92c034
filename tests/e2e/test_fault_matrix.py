"""apply under injected faults, one cell per action kind x fault: every cell converges in
the run, or exits 1 naming the resource and the cause and converges on the next run.
Afterwards live state matches the spec (plan exits 0) with no duplicate role assignment
and no lost signature. The last test prints the matrix and checks every cell ran.

Transient faults fire twice, so a retry meets them again; "503 persisting" outlives every
retry of the trust upload (a rerun path for the data plane; the terminal-failure test below
is the one for ARM). Faults are sandbox rules (method + path regex + count) aimed at the
action's own request:
ARM writes on the control plane, the trust upload (``POST /v2/<repo>/_trust/tuf/``) on
the registry's loginServer, the certificate create (``POST /certificates/<name>/create``)
on the vault's data plane.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from acr_sandbox.testing import SandboxHandle
from tests.e2e.fault_matrix_cells import (
    ACTIONS,
    FAULTS,
    REGISTRY,
    REPOSITORY,
    RG,
    SIGNER,
    ActionKind,
    Scenario,
    cells,
    not_applicable,
    rule_for,
)
from tests.e2e.plan_apply_support import Cli, Result, cli_runner, make_walkthrough, sdk

pytestmark = pytest.mark.e2e

CONVERGED, RECOVERED = "converged in run", "failed, then converged"
_NOT_ENV = ("STRAY_OBJECT_ID", "SIGNER_OBJECT_ID", "WORKDIR")
OUTCOMES: dict[tuple[str, str], str] = {}
CAUSES = {
    "429": ("429", "TooManyRequests", "TOOMANYREQUESTS"),
    "500": ("500", "InternalServerError", "INTERNAL_ERROR"),
    "503": ("503", "ServiceUnavailable", "UNAVAILABLE"),
    "reset": ("reach", "Connection", "connection", "ServiceResponseError"),
    "lro failed": ("InternalServerError", "failed"),
    "replication lag": ("PrincipalNotFound",),
    "version conflict": ("version conflict", "VERSION"),
    "503 persisting": ("503", "UNAVAILABLE"),
}


@pytest.fixture(scope="module")
def world(
    sandbox: SandboxHandle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """The environment a user's shell would have, plus two principals the cells need."""
    workdir = tmp_path_factory.mktemp("fault-matrix")
    sandbox.reset_state()
    sandbox.settings(dct="legacy", replication_lag=0.0)
    _, stray, _ = sandbox.add_principal("MatrixStrayPusher")
    signer = next(
        p["id"] for p in sandbox.state()["principals"].values() if p["displayName"] == SIGNER
    )
    env = sandbox.env() | {
        "DOCKER_CONFIG": str(workdir / "docker"),
        "DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE": "root passphrase for the fault matrix",
        "DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE": "repository passphrase for the matrix",
    }
    yield env | {"STRAY_OBJECT_ID": stray, "SIGNER_OBJECT_ID": signer, "WORKDIR": str(workdir)}
    sandbox.clear_faults()
    sandbox.settings(replication_lag=0.0)


@pytest.fixture
def cli(
    world: dict[str, str],
    sandbox: SandboxHandle,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[Cli]:
    sandbox.reset_state()
    user_env = {k: v for k, v in world.items() if k not in _NOT_ENV}
    yield cli_runner(user_env, monkeypatch, capsys)
    sandbox.clear_faults()
    sandbox.settings(replication_lag=0.0)


def _cell_id(cell: tuple[ActionKind, str]) -> str:
    return f"{cell[0].name}|{cell[1]}".replace(" ", "-")


@pytest.mark.parametrize("cell", cells(), ids=_cell_id)
def test_cell(
    cell: tuple[ActionKind, str],
    cli: Cli,
    world: dict[str, str],
    sandbox: SandboxHandle,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    action, fault = cell
    monkeypatch.chdir(tmp_path)  # a migration writes its DCT inventory here
    flags = ("--allow-destroy-trust",) if action.migration else ()
    scenario = action.prepare(sandbox, world)
    spec = tmp_path / "spec.yaml"
    spec.write_text(_variant(sandbox, scenario, fault))
    if fault == "version conflict":
        first = _apply_racing_another_publisher(cli, sandbox, world, spec, tmp_path)
    else:
        sandbox.set_faults([rule_for(scenario, fault)] if fault != "replication lag" else [])
        first = cli("apply", spec, "--auto-approve", *flags)
    assert all(r["fired"] >= 1 for r in sandbox.faults()), sandbox.faults()
    assert _fault_seen(sandbox, fault), f"{fault} did not reach {action.name}"
    sandbox.clear_faults()
    if first.code == 0:
        OUTCOMES[(action.name, fault)] = CONVERGED
    else:
        _assert_names_resource_and_cause(first, action, fault)
        if action.migration and _trust_status(sandbox) != "enabled":
            # never disabled before its signatures exist and verify (the inventory: here)
            assert cli("verify", spec).code == 0, first.text
        rerun = cli("apply", spec, "--auto-approve", *flags)
        assert rerun.code == 0, rerun.text
        OUTCOMES[(action.name, fault)] = RECOVERED
    check = cli("plan", spec, "--detailed-exitcode")
    assert check.code == 0, check.text
    _assert_no_duplicate_assignments(sandbox)
    if fault == "version conflict":
        _assert_both_signed(sandbox, world)


def _trust_status(sandbox: SandboxHandle) -> str:
    with sdk(sandbox) as clients:
        policies = clients.registries.registries.get(RG, REGISTRY).policies
    return str(policies.trust_policy.status.value).lower()


def _variant(sandbox: SandboxHandle, scenario: Scenario, fault: str) -> str:
    """Replication lag needs a principal created just now, named by its appId."""
    if fault != "replication lag":
        return scenario.spec
    app_id, _, _ = sandbox.add_principal(f"FreshSigner{time.monotonic_ns()}")
    sandbox.settings(replication_lag=4.0)
    return scenario.spec.replace(f"{{displayName: {SIGNER}}}", f"{{appId: {app_id}}}")


def _fault_seen(sandbox: SandboxHandle, fault: str) -> bool:
    if fault != "replication lag":
        return True
    puts = [
        e["status"]
        for e in sandbox.requests()
        if e["method"] == "PUT" and "/roleAssignments/" in e["path"]
    ]
    return 400 in puts and 201 in puts  # PrincipalNotFound first, then created


def _assert_names_resource_and_cause(result: Result, action: ActionKind, fault: str) -> None:
    assert result.code == 1, result.text
    message = result.err
    assert "Traceback" not in result.text, result.text
    assert action.resource.lower() in message.lower(), message
    assert any(cause in message for cause in CAUSES[fault]), message


def _assert_no_duplicate_assignments(sandbox: SandboxHandle) -> None:
    scope = (
        f"/subscriptions/{sandbox.subscription_id}/resourceGroups/{RG}"
        f"/providers/Microsoft.ContainerRegistry/registries/{REGISTRY}"
    )
    with sdk(sandbox) as clients:
        if not clients.resources.resource_groups.check_existence(RG):
            return
        pairs = Counter(
            (a.principal_id, a.role_definition_id.lower())
            for a in clients.authorization.role_assignments.list_for_scope(scope)
            if (a.scope or "").lower() == scope.lower()
        )
    assert set(pairs.values()) <= {1}, pairs


# -- notary version conflict: another publisher lands between our read and our upload --


def _data_plane(sandbox: SandboxHandle, world: dict[str, str]) -> tuple[Any, Any, str]:
    from acr_reconcile.live.images import DataPlane

    with sdk(sandbox) as clients:
        registry = clients.registries.registries.get(RG, REGISTRY)
    server = registry.as_dict()["properties"]["loginServer"]
    credential = sandbox.credential()
    return DataPlane(credential, sandbox.ca_bundle, world), credential, server


def _publish(sandbox: SandboxHandle, world: dict[str, str], tag: str) -> None:
    """Sign ``tag`` (same digest as the imported one) as another job with the same keys."""
    plane, credential, server = _data_plane(sandbox, world)
    try:
        manifest = plane.registry(server).manifest(REPOSITORY, "signed")
        digest = (manifest.digest.removeprefix("sha256:"), manifest.size)
        plane.trust(server).publish(f"{server}/{REPOSITORY}", add={tag: digest})
    finally:
        plane.close()
        credential.close()


def _apply_racing_another_publisher(
    cli: Cli, sandbox: SandboxHandle, world: dict[str, str], spec: Path, tmp: Path
) -> Result:
    _publish(sandbox, world, "base")  # the repository has trust data we can sign into
    hold = {"method": "POST", "path": rf"/{REPOSITORY}/_trust/tuf/$", "plane": "data"}
    sandbox.set_faults([hold | {"latencyMs": 2500, "count": 1}, hold])  # the 2nd only counts
    outcome: list[Result] = []
    runner = threading.Thread(target=lambda: outcome.append(cli("apply", spec, "--auto-approve")))
    runner.start()
    deadline = time.monotonic() + 60
    while sandbox.faults()[0]["fired"] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)  # until our upload is held at the loginServer
    _publish(sandbox, world, "other")  # lands first
    runner.join(timeout=120)
    assert outcome, "apply did not finish"
    uploads = sandbox.faults()[1]["fired"]
    assert uploads >= 3, uploads  # the other one, ours refused (VERSION), ours merged
    return outcome[0]


def _assert_both_signed(sandbox: SandboxHandle, world: dict[str, str]) -> None:
    plane, credential, server = _data_plane(sandbox, world)
    try:
        targets = plane.trust(server).read(f"{server}/{REPOSITORY}").targets
    finally:
        plane.close()
        credential.close()
    assert {"base", "other", "signed"} <= set(targets), sorted(targets)


def test_terminal_failure_skips_dependents_only_and_a_rerun_converges(
    cli: Cli,
    sandbox: SandboxHandle,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A refusal no retry fixes (quota) fails its action once; the rest of the walkthrough
    that does not depend on it is done, each dependent is reported skipped once."""
    walkthrough = make_walkthrough(sandbox, tmp_path)
    # the walkthrough's own trust dir: the module's one pins the roots of the cells'
    # repositories, and a registry made after a reset may get a login server (port) a
    # deleted one had, so a pinned root would name another repository's root
    cli = cli_runner(walkthrough.env, monkeypatch, capsys)
    registry = r".*/registries/registrydavid$"
    sandbox.set_faults(
        [{"method": "PUT", "path": registry, "lro": "failed", "errorCode": "QuotaExceeded"}]
    )
    failed = cli("apply", walkthrough.spec, "--auto-approve")
    assert failed.code == 1
    assert "registries/registrydavid" in failed.err and "QuotaExceeded" in failed.err
    assert "Apply failed: 1 added, 0 changed, 0 destroyed; 1 failed, 6 skipped." in failed.out
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


def test_matrix_covers_every_cell_and_prints_it(capsys: pytest.CaptureFixture[str]) -> None:
    """Runs last in the module: prints the table, then checks every cell ran."""
    missing = [
        f"{a} x {f}" for a, f in ((c[0].name, c[1]) for c in cells()) if (a, f) not in OUTCOMES
    ]
    width = max(len(a.name) for a in ACTIONS)
    columns = [max(len(f), len("MISSING")) for f in FAULTS]
    lines = ["", "apply fault matrix (action x fault):", _row("", FAULTS, width, columns)]
    for action in ACTIONS:
        marks = [_mark(OUTCOMES.get((action.name, f)), action.applies(f)) for f in FAULTS]
        lines.append(_row(action.name, marks, width, columns))
    lines.append(f"  ok = {CONVERGED}; rerun = {RECOVERED}; n/a = not applicable")
    lines.append(f"  {len(OUTCOMES)} cells covered, {len(not_applicable())} n/a")
    with capsys.disabled():  # straight to the terminal, also in a plain `pytest -q`
        print("\n".join(lines), flush=True)
    assert not missing, f"cells not run (run the whole module): {missing}"


def _row(label: str, cells: Sequence[str], width: int, columns: list[int]) -> str:
    padded = (cell.ljust(size) for cell, size in zip(cells, columns, strict=True))
    return label.ljust(width) + " | " + " | ".join(padded)


def _mark(outcome: str | None, applies: bool) -> str:
    if not applies:
        return "n/a"
    return {CONVERGED: "ok", RECOVERED: "rerun"}.get(outcome or "", "MISSING")
