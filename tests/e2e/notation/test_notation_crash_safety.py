"""A Notation apply killed (SIGKILL) after any of its writes, then run again, ends as an
uninterrupted apply ends: the same tags at the same digests, each signed tag with exactly
one signature listed for its manifest (no duplicate from the rerun), the unsigned tag
unsigned, and a clean plan.

The registry has no referrers API (a customer-managed key), the hardest path: a signature
is three uploads and a manifest, then the ``sha256-<hex>`` index. The writes are those of
an uninterrupted run (ARM writes, and the registry's POST/PUT/DELETE on the data plane),
read from the sandbox's request log; each write of a killed run waits a little in the
sandbox so a kill after the k-th completed write lands before the next is answered.
A kill between a signature manifest and its index entry leaves a manifest nobody lists
(no verifier finds it, the tag schema being the only way to it there); the rerun signs
again, and the tag still has one signature.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from acr_reconcile.notation.manifest import SIGNATURE_ARTIFACT_TYPE
from acr_reconcile.registry.referrers import referrers
from acr_sandbox.testing import SandboxHandle
from tests.e2e.notation.test_notation_apply import GROUP, cmk_registry, registry_client
from tests.e2e.pipeline_support import run_tool, tool
from tests.e2e.plan_apply_support import ROOT, writes
from tests.support.notation_certs import self_signed

pytestmark = pytest.mark.e2e
NAME = "regnotationcrash"
GATE_MS = 250
GATES = [
    {"method": "PUT|PATCH|DELETE|POST", "path": r"^/subscriptions/", "latencyMs": GATE_MS},
    {"plane": "data", "method": "PUT|POST|DELETE", "path": r"^/v2/.+", "latencyMs": GATE_MS},
]
TAGS = {"signed": True, "also-signed": True, "unsigned": False}


def _spec(sandbox: SandboxHandle, key_dir: Path) -> str:
    images = "".join(
        f"  - {{repository: hello-world, tags: [{tag}], sign: {str(sign).lower()}, "
        f"source: 'docker.io/library/hello-world:{tag}'}}\n"
        for tag, sign in TAGS.items()
    )
    return f"""\
apiVersion: acr-reconcile/v1
kind: RegistryTrust
subscriptionId: {sandbox.subscription_id}
resourceGroup: {{name: {GROUP}, location: westeurope}}
registry: {{name: {NAME}, sku: Premium}}
notation:
  signingKey:
    file: {{key: {key_dir}/signing.key, certificate: {key_dir}/signing.crt}}
images:
{images}"""


def _performed(entries: list[dict[str, Any]]) -> list[str]:
    """Writes that took effect: ARM's, and the registry's on its data plane."""
    found = []
    for entry in entries:
        if entry["status"] >= 400:
            continue
        if entry.get("plane") == "data":
            if entry["method"] in ("PUT", "POST", "DELETE") and entry["path"].startswith("/v2/"):
                found.append(f"{entry['method']} {entry['path']}")
        else:
            found += writes([entry])
    return found


def _state(sandbox: SandboxHandle) -> dict[str, tuple[str | None, int]]:
    """Each tag's digest and how many signatures its manifest lists."""
    registry = registry_client(sandbox, NAME)
    try:
        state: dict[str, tuple[str | None, int]] = {}
        for tag in TAGS:
            ref = registry.client.manifest("hello-world", tag)
            if ref is None:
                state[tag] = (None, 0)
                continue
            found = referrers(registry.client, "hello-world", ref.digest, SIGNATURE_ARTIFACT_TYPE)
            assert found.referrers_api is False
            state[tag] = (ref.digest, len(found.referrers))
        return state
    finally:
        registry.close()


@dataclass(frozen=True)
class Baseline:
    state: dict[str, tuple[str | None, int]]
    writes: list[str]


def _fresh(sandbox: SandboxHandle) -> None:
    sandbox.reset_state()
    sandbox.settings(dct="current", replication_lag=0.0)
    cmk_registry(sandbox, NAME)


def _env(sandbox: SandboxHandle) -> dict[str, str]:
    return dict(os.environ) | sandbox.env() | {"NO_COLOR": "1"}


def _kill_after(sandbox: SandboxHandle, spec: Path, after: int, log: Path) -> bool:
    sandbox.clear_requests()
    sandbox.set_faults(GATES)
    argv = tool("apply", spec, "--auto-approve", "--parallelism", "1")
    with log.open("w") as out:
        process = subprocess.Popen(
            argv,
            env=_env(sandbox),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=ROOT,
        )
        try:
            deadline = time.monotonic() + 120
            while process.poll() is None and time.monotonic() < deadline:
                if len(_performed(sandbox.requests(data_plane=True))) >= after:
                    process.kill()
                    break
                time.sleep(0.02)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
    time.sleep(GATE_MS / 1000 + 0.3)  # writes already sent end before the rerun
    sandbox.clear_faults()
    return process.returncode == -9


def test_a_notation_apply_killed_after_every_write_then_rerun_matches_an_uninterrupted_one(
    sandbox: SandboxHandle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_dir = tmp_path / "key"
    key_dir.mkdir()
    self_signed("p256").write(key_dir)
    spec = tmp_path / "notation.yaml"
    spec.write_text(_spec(sandbox, key_dir))
    try:
        _fresh(sandbox)
        sandbox.clear_requests()
        applied = run_tool(_env(sandbox), "apply", spec, "--auto-approve", "--parallelism", "1")
        assert applied.code == 0, applied.text
        baseline = Baseline(_state(sandbox), _performed(sandbox.requests(data_plane=True)))
        assert baseline.state["signed"][1] == 1 and baseline.state["also-signed"][1] == 1
        assert baseline.state["unsigned"][1] == 0
        assert len(baseline.writes) >= 10, baseline.writes  # imports, uploads, manifests, index

        covered = []
        for after in range(1, len(baseline.writes) + 1):
            _fresh(sandbox)
            log = tmp_path / f"killed-{after}.log"
            killed = _kill_after(sandbox, spec, after, log)
            last = after == len(baseline.writes)
            assert killed or last, f"@{after}: apply ended before the kill\n{log.read_text()}"
            took = len(_performed(sandbox.requests(data_plane=True)))
            where = f"killed after write {after} ({took} took effect)"
            rerun = run_tool(_env(sandbox), "apply", spec, "--auto-approve")
            assert rerun.code == 0, f"{where}: rerun failed\n{rerun.text}"
            assert _state(sandbox) == baseline.state, where  # one signature per signed tag
            clean = run_tool(_env(sandbox), "plan", spec, "--detailed-exitcode")
            assert clean.code == 0, f"{where}: plan after the rerun\n{clean.text}"
            covered.append(f"{where}: converged")
    finally:
        sandbox.clear_faults()
        sandbox.settings(dct="legacy")
    with capsys.disabled():
        print(f"\nnotation crash safety: {len(covered)} kill points", *covered, sep="\n  ")
