"""An apply killed (SIGKILL) at any action boundary, then run again, ends exactly where an
uninterrupted apply ends: same registries, one assignment per principal, role and scope,
same image digests, and complete, verifiable trust data (ours and the notary CLI's read).

The boundaries are the writes an uninterrupted run sends, read from the sandbox's request
log. The killed run goes one action at a time (``--parallelism 1``) and every write it
sends waits a little in the sandbox, so a kill after the k-th completed write lands before
the next one is answered; how many writes really took effect is read back from the log.
Each kill point starts from an empty sandbox with a fresh key store, which the killed run
and its re-run share, as a pipeline's job keeps its keys.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.pipeline_support import (
    WALKTHROUGH,
    WALKTHROUGH_TARGETS,
    Target,
    assignment_keys,
    check_trust_with_notary,
    live_state,
    run_tool,
    tool,
    user_env,
)
from tests.e2e.plan_apply_support import ROOT, writes
from tests.support.sandbox import SandboxHandle

pytestmark = pytest.mark.e2e

GATE_MS = 200  # how long each write of a killed run waits in the sandbox
WRITE_GATE = {
    "method": "PUT|PATCH|DELETE|POST",
    "path": r"^/subscriptions/(?!.*checkNameAvailability)",
    "latencyMs": GATE_MS,
}

FLEET_DOCUMENT = """apiVersion: acr-reconcile/v1
kind: RegistryTrust
subscriptionId: {sub}
resourceGroup: {{name: crashfleet, location: westeurope}}
registry: {{name: {name}, sku: Premium, contentTrust: enabled}}
signers:
  - name: DavidServiceAccount
    principal: {{displayName: DavidServiceAccount}}
    roles: [{roles}]
images:
  - repository: hello-world
    tags: [{tag}]
    source: docker.io/library/hello-world:latest
"""
FLEET_TARGETS = (
    Target("crashfleet", "crashfleeta", (("hello-world", "v1", True),)),
    Target("crashfleet", "crashfleetb", (("hello-world", "v2", True),)),
)


def _fleet_spec(sandbox: SandboxHandle, directory: Path) -> Path:
    documents = [
        FLEET_DOCUMENT.format(
            sub=sandbox.subscription_id,
            name="crashfleeta",
            roles="AcrImageSigner, AcrPush",
            tag="v1",
        ),
        FLEET_DOCUMENT.format(
            sub=sandbox.subscription_id, name="crashfleetb", roles="AcrImageSigner", tag="v2"
        ),
    ]
    spec = directory / "fleet.yaml"
    spec.write_text("---\n".join(documents))
    return spec


@dataclass(frozen=True)
class Scenario:
    name: str
    spec: Path
    targets: tuple[Target, ...]
    baseline: Any  # live state after an uninterrupted apply
    writes: list[str]  # the writes of the uninterrupted apply, in order


def _performed(entries: list[dict[str, Any]]) -> list[str]:
    """Writes that took effect (answered below 400)."""
    return [w for e in entries if e["status"] < 400 for w in writes([e])]


def _fresh(sandbox: SandboxHandle) -> None:
    sandbox.reset_state()
    sandbox.settings(dct="legacy", replication_lag=0.0)


def _baseline(
    sandbox: SandboxHandle, name: str, spec: Path, targets: tuple[Target, ...], work: Path
) -> Scenario:
    _fresh(sandbox)
    sandbox.clear_requests()
    applied = run_tool(user_env(sandbox, work), "apply", spec, "--auto-approve")
    assert applied.code == 0, applied.text
    done = _performed(sandbox.requests())
    state = live_state(sandbox, targets, work / "reader")
    return Scenario(name, spec, targets, state, done)


@pytest.fixture(scope="module")
def scenarios(
    sandbox: SandboxHandle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Scenario]]:
    work = tmp_path_factory.mktemp("crash")
    walk = _baseline(sandbox, "walkthrough", WALKTHROUGH, WALKTHROUGH_TARGETS, work / "walk")
    fleet_spec = _fleet_spec(sandbox, work)
    fleet = _baseline(sandbox, "fleet", fleet_spec, FLEET_TARGETS, work / "fleet")
    yield {"walkthrough": walk, "fleet": fleet}
    sandbox.clear_faults()


def _kill_after(
    sandbox: SandboxHandle, env: dict[str, str], spec: Path, after: int, log: Path
) -> bool:
    """Start apply, SIGKILL it once ``after`` writes completed; True if it was killed."""
    sandbox.clear_requests()
    sandbox.set_faults([WRITE_GATE])
    argv = tool("apply", spec, "--auto-approve", "--parallelism", "1")
    with log.open("w") as out:
        process = subprocess.Popen(
            argv, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT
        )
        try:
            deadline = time.monotonic() + 120
            while process.poll() is None and time.monotonic() < deadline:
                if len(_performed(sandbox.requests())) >= after:
                    process.kill()
                    break
                time.sleep(0.02)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
    sandbox.clear_faults()
    time.sleep(GATE_MS / 1000 + 0.3)  # a write the kill left in flight finishes server-side
    return process.returncode == -9


def _crash_and_recover(scenario: Scenario, sandbox: SandboxHandle, after: int, work: Path) -> str:
    _fresh(sandbox)
    env = user_env(sandbox, work)  # one key store for the killed run and its re-run
    killed = _kill_after(sandbox, env, scenario.spec, after, work / "killed.log")
    took_effect = len(_performed(sandbox.requests()))
    assert killed, f"{scenario.name} @{after}: apply ended before the kill\n" + (
        (work / "killed.log").read_text()
    )
    rerun = run_tool(env, "apply", scenario.spec, "--auto-approve")
    where = f"{scenario.name}, killed after write {after} ({took_effect} took effect)"
    assert rerun.code == 0, f"{where}: re-run failed\n{rerun.text}"
    duplicates = {k: n for k, n in assignment_keys(sandbox).items() if n > 1}
    assert duplicates == {}, f"{where}: duplicate role assignments {duplicates}"
    assert live_state(sandbox, scenario.targets, work / "reader") == scenario.baseline, where
    check_trust_with_notary(sandbox, scenario.targets, work)
    return f"{where}: converged"


@pytest.mark.parametrize("name", ["walkthrough", "fleet"])
def test_apply_killed_at_every_write_then_rerun_matches_an_uninterrupted_apply(
    name: str,
    scenarios: dict[str, Scenario],
    sandbox: SandboxHandle,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    scenario = scenarios[name]
    boundaries = len(scenario.writes)
    assert boundaries >= (7 if name == "walkthrough" else 9), scenario.writes
    covered = []
    for after in range(1, boundaries + 1):
        work = tmp_path / f"kill-{after}"
        work.mkdir()
        covered.append(_crash_and_recover(scenario, sandbox, after, work))
    with capsys.disabled():
        print(f"\ncrash safety, {name}: {len(covered)} kill points covered", *covered, sep="\n  ")
    assert len(covered) >= boundaries
