"""Two applies of conflicting specs on one registry: one disables content trust while the
other is still on its way to signing. The signer re-reads the trust policy right before
it publishes, fails with a clear message, signs nothing and records nothing as applied;
the registry keeps the winner's state and a rerun of the winner converges."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from acr_reconcile.live.state import APPLIED_TAG
from acr_sandbox.testing import SandboxHandle
from tests.e2e.pipeline_support import WALKTHROUGH, run_tool, tool, user_env
from tests.e2e.plan_apply_support import REGISTRY, RG, ROOT, push_source_image, sdk

pytestmark = pytest.mark.e2e
HUB = "docker.io/library/hello-world:latest"
IMPORT_HELD = {"method": "POST", "path": r"/importImage", "latencyMs": 25000, "count": 1}


def _trust_and_tags(sandbox: SandboxHandle) -> tuple[str, dict[str, str]]:
    with sdk(sandbox) as clients:
        raw = clients.registries.registries.get(RG, REGISTRY).as_dict()
    policy = ((raw.get("properties") or {}).get("policies") or {}).get("trustPolicy") or {}
    return str(policy.get("status", "disabled")).lower(), dict(raw.get("tags") or {})


def test_the_signer_loses_to_a_run_that_disabled_trust(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    sandbox.reset_state()
    sandbox.settings(dct="legacy", replication_lag=0.0)
    source = push_source_image(sandbox)
    text = WALKTHROUGH.read_text().replace(HUB, source)
    signer, disabler = tmp_path / "signer.yaml", tmp_path / "disabler.yaml"
    signer.write_text(text)
    disabler.write_text(
        text.replace("contentTrust: enabled", "contentTrust: disabled")
        .replace("sign: true", "sign: false")
        .replace("prune: false", "prune: true")
    )
    env = user_env(sandbox, tmp_path)
    first = run_tool(env, "apply", signer, "--auto-approve")
    assert first.code == 0, first.text
    signer.write_text(text.replace("tags: [signed]", "tags: [signed, signed2]"))  # more to sign

    sandbox.set_faults([IMPORT_HELD])
    with (tmp_path / "signer.log").open("w") as log:
        signing = subprocess.Popen(
            tool("apply", signer, "--auto-approve"),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=ROOT,
        )
        deadline = time.monotonic() + 120
        while sandbox.faults()[0]["fired"] < 1 and time.monotonic() < deadline:
            assert signing.poll() is None, (tmp_path / "signer.log").read_text()
            time.sleep(0.05)
        disabled = run_tool(env, "apply", disabler, "--auto-approve", "--allow-destroy-trust")
        assert disabled.code == 0, disabled.text
        assert signing.poll() is None, "the signer got past its held import before the other"
        signing.wait(timeout=180)
    sandbox.clear_faults()
    out = (tmp_path / "signer.log").read_text()
    assert signing.returncode == 1, out + "\n--- the disabler:\n" + disabled.text
    assert "content trust is disabled on registry registrydavid now" in " ".join(out.split())
    assert "Traceback" not in out
    trust, tags = _trust_and_tags(sandbox)
    assert trust == "disabled"
    applied_before = tags.get(APPLIED_TAG)
    again = run_tool(env, "apply", disabler, "--auto-approve", "--allow-destroy-trust")
    assert again.code == 0, again.text
    assert run_tool(env, "plan", disabler, "--detailed-exitcode").code == 0
    assert _trust_and_tags(sandbox)[1].get(APPLIED_TAG) == applied_before  # the winner's
