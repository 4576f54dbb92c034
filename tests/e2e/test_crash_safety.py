"""An apply killed (SIGKILL) at any action boundary, then run again, ends exactly where an
uninterrupted apply ends: same registries, one assignment per principal, role and scope,
same image digests, and complete, verifiable trust data (ours and the notary CLI's read).

The boundaries are the writes an uninterrupted run sends (ARM writes and trust uploads),
read from the sandbox's request log. Runs go one action at a time (``--parallelism 1``,
so the order of writes is fixed) and every ARM write of a killed run waits a little in
the sandbox, so a kill after the k-th completed write lands before the next one is
answered; when the next write is a trust upload, the kill waits until the upload is held
(and later refused): the run has made its keys, the server never got the metadata. How
many writes really took effect is read back from the log.
Each kill point starts from an empty sandbox with a fresh key store, which the killed run
and its re-run share, as a pipeline's job keeps its keys.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from acr_sandbox.testing import SandboxHandle
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

pytestmark = pytest.mark.e2e

GATE_MS = 200  # how long each write of a killed run waits in the sandbox
WRITE_GATE = {
    "method": "PUT|PATCH|DELETE|POST",
    "path": r"^/subscriptions/(?!.*checkNameAvailability)",
    "latencyMs": GATE_MS,
}

UPLOAD = re.compile(r"^/v2/(.+)/_trust/tuf/$")  # a trust publish: one POST per GUN
UPLOAD_HOLD_MS = 1500  # a held upload is refused after this, long after the kill


def _uploaded_repository(write: str) -> str | None:
    """The repository a write (as ``_performed`` names it) uploads trust data for."""
    parts = write.split()
    found = UPLOAD.match(parts[1]) if len(parts) > 1 and parts[0] == "POST" else None
    return found.group(1).split("/", 1)[-1] if found else None  # the GUN less its server


def _upload_gate(repository: str) -> dict[str, Any]:
    """Holds the trust upload of ``repository``, then refuses it: a kill meanwhile lands
    after the run made its keys and before the upload took effect."""
    path = f"^/v2/[^/]+/{re.escape(repository)}/_trust/tuf/$"
    return {
        "plane": "data",
        "method": "POST",
        "path": path,
        "latencyMs": UPLOAD_HOLD_MS,
        "status": 503,
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
  - repository: {repository}
    tags: [{tag}]
    source: docker.io/library/hello-world:latest
"""
FLEET_TARGETS = (
    Target("crashfleet", "crashfleeta", (("hello-world", "v1", True),)),
    Target("crashfleet", "crashfleetb", (("hello-other", "v2", True),)),
)


def _fleet_spec(sandbox: SandboxHandle, directory: Path) -> Path:
    documents = [
        FLEET_DOCUMENT.format(
            sub=sandbox.subscription_id,
            name="crashfleeta",
            roles="AcrImageSigner, AcrPush",
            repository="hello-world",
            tag="v1",
        ),
        FLEET_DOCUMENT.format(
            sub=sandbox.subscription_id,
            name="crashfleetb",
            roles="AcrImageSigner",
            repository="hello-other",
            tag="v2",
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
    """Writes that took effect (answered below 400): ARM's, and the trust uploads."""
    found = []
    for entry in entries:
        if entry["status"] >= 400:
            continue
        if entry.get("plane") == "data":
            if entry["method"] == "POST" and UPLOAD.match(entry["path"]):
                found.append(f"POST {entry['path']} on {entry['loginServer']}")
        else:
            found += writes([entry])
    return found


def _fresh(sandbox: SandboxHandle) -> None:
    sandbox.reset_state()
    sandbox.settings(dct="legacy", replication_lag=0.0)


def _baseline(
    sandbox: SandboxHandle, name: str, spec: Path, targets: tuple[Target, ...], work: Path
) -> Scenario:
    _fresh(sandbox)
    sandbox.clear_requests()
    env = user_env(sandbox, work)
    applied = run_tool(env, "apply", spec, "--auto-approve", "--parallelism", "1")
    assert applied.code == 0, applied.text
    done = _performed(sandbox.requests(data_plane=True))
    assert _performed(sandbox.requests()) == [w for w in done if " on " not in w]
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
    sandbox: SandboxHandle, env: dict[str, str], spec: Path, after: int, following: str, log: Path
) -> bool:
    """Start apply, SIGKILL it once ``after`` writes completed (and, when the next write
    is a trust upload, once that upload is held); True if it was killed."""
    sandbox.clear_requests()
    upload = _uploaded_repository(following)
    rules = [WRITE_GATE] + ([_upload_gate(upload)] if upload else [])
    sandbox.set_faults(rules)
    argv = tool("apply", spec, "--auto-approve", "--parallelism", "1")
    with log.open("w") as out:
        process = subprocess.Popen(
            argv, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT
        )
        try:
            deadline = time.monotonic() + 120
            while process.poll() is None and time.monotonic() < deadline:
                if _reached(sandbox, after, held=bool(upload)):
                    process.kill()
                    break
                time.sleep(0.02)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
    time.sleep((UPLOAD_HOLD_MS if upload else GATE_MS) / 1000 + 0.3)  # let held writes end
    sandbox.clear_faults()
    return process.returncode == -9


def _reached(sandbox: SandboxHandle, after: int, held: bool) -> bool:
    if len(_performed(sandbox.requests(data_plane=True))) < after:
        return False
    return not held or sandbox.faults()[1]["fired"] >= 1


def _crash_and_recover(scenario: Scenario, sandbox: SandboxHandle, after: int, work: Path) -> str:
    _fresh(sandbox)
    env = user_env(sandbox, work)  # one key store for the killed run and its re-run
    following = scenario.writes[after] if after < len(scenario.writes) else ""
    killed = _kill_after(sandbox, env, scenario.spec, after, following, work / "killed.log")
    took_effect = len(_performed(sandbox.requests(data_plane=True)))
    last = after == len(scenario.writes)
    assert killed or last, f"{scenario.name} @{after}: apply ended before the kill\n" + (
        (work / "killed.log").read_text()
    )
    where = f"{scenario.name}, killed after write {after} ({took_effect} took effect"
    where += (
        ", the trust upload after it held and lost)" if _uploaded_repository(following) else ")"
    )
    where = where if killed else f"{scenario.name}, after the last write: the run had ended"
    rerun = run_tool(env, "apply", scenario.spec, "--auto-approve")
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
    uploads = [w for w in scenario.writes if _uploaded_repository(w)]
    assert len(uploads) == len(scenario.targets), scenario.writes  # one per repository
    assert boundaries >= (8 if name == "walkthrough" else 11), scenario.writes
    covered = []
    for after in range(1, boundaries + 1):
        work = tmp_path / f"kill-{after}"
        work.mkdir()
        covered.append(_crash_and_recover(scenario, sandbox, after, work))
    with capsys.disabled():
        print(f"\ncrash safety, {name}: {len(covered)} kill points covered", *covered, sep="\n  ")
    assert len(covered) >= boundaries
