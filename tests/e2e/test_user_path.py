"""The path around plan and apply as pipelines walk it, against the sandbox.

A read-only job (the drift CronJob, the pull-request plan) holds no signing keys and no
passphrases: it must still plan every change, a signature included, and exit 2 for it.
The apply job that has them applies the plan saved without them; an apply that lacks
them refuses before its first write. Apply then counts what the plan counted.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests

from acr_sandbox.testing import SandboxHandle
from tests.e2e.plan_apply_support import REGISTRY, RG, Cli, Walkthrough, sdk, writes
from tests.support.images import push_test_image

pytestmark = pytest.mark.e2e

PASSPHRASES = ("DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE", "DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE")


@pytest.fixture
def converged(cli: Cli, walkthrough: Walkthrough, sandbox: SandboxHandle) -> Cli:
    sandbox.clear_faults()
    result = cli("apply", walkthrough.spec, "--auto-approve")
    assert result.code == 0, result.text
    return cli


def _move_signed_tag(sandbox: SandboxHandle, seed: str) -> None:
    """Push another image as hello-world:signed: its signature no longer matches (drift)."""
    from acr_reconcile.registry.acr_auth import AcrTokenSource
    from acr_reconcile.registry.client import RegistryClient

    with sdk(sandbox) as clients:
        server = clients.registries.registries.get(RG, REGISTRY).login_server
    credential = sandbox.credential()
    with requests.Session() as session:
        tokens = AcrTokenSource(credential, verify=sandbox.ca_bundle, session=session)
        registry = RegistryClient(server, tokens, sandbox.ca_bundle)
        push_test_image(registry, "hello-world", "signed", seed)
        registry.close()
    credential.close()


def _read_only_job(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """What a plan-only job has: Azure sign-in, no key store, no passphrase."""
    for name in PASSPHRASES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-keys"))


def test_read_only_jobs_plan_a_signature_change_without_signing_material_and_apply_gates_it(
    converged: Cli,
    walkthrough: Walkthrough,
    sandbox: SandboxHandle,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    _move_signed_tag(sandbox, "moved out of band")
    _read_only_job(monkeypatch, tmp_path)
    sandbox.clear_requests()

    # the drift CronJob's command line
    drift = converged(
        "plan", walkthrough.spec, "--detailed-exitcode", "--fail-on", "drift", "--output", "json"
    )
    assert drift.code == 2, drift.text
    document = json.loads(drift.out)
    pending = [c for c in document["changes"] if c["action"] != "no-op"]
    assert [(c["kind"], c["action"], c["reason"]) for c in pending] == [
        ("tag-signature", "update", "drift")
    ]
    gaps = [d for d in document["diagnostics"] if d["details"].get("blocks") == "apply"]
    assert [d["severity"] for d in gaps] == ["warning"]
    assert "DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE" in gaps[0]["message"]

    # the pull-request job's plan, and the GitHub apply job's `plan --out`
    saved = tmp_path / "plan.json"
    planned = converged("plan", walkthrough.spec, "--detailed-exitcode", "--out", saved)
    assert planned.code == 2, planned.text
    assert ": warning: signing is planned and this run lacks" in planned.err
    assert f"Saved the plan to: {saved}" in planned.out
    assert f"acr-reconcile apply {saved}" in planned.out
    assert writes(sandbox.requests()) == []

    # an apply without the passphrase refuses before its first write
    refused = converged("apply", saved, "--auto-approve")
    assert refused.code == 1
    assert "apply cannot start" in refused.err and "DOCKER_CONTENT_TRUST_REPOSITORY" in refused.err
    assert "nothing was changed" in refused.err
    fresh = converged("apply", walkthrough.spec, "--auto-approve")
    assert fresh.code == 1 and "apply cannot start" in fresh.err
    assert writes(sandbox.requests()) == []

    # the apply job has the keys and the passphrase: the same saved plan applies
    for name in PASSPHRASES:
        monkeypatch.setenv(name, walkthrough.env[name])
    monkeypatch.setenv("DOCKER_CONFIG", walkthrough.env["DOCKER_CONFIG"])
    applied = converged("apply", saved, "--auto-approve", "--output", "json")
    assert applied.code == 0, applied.text
    events = [json.loads(line) for line in applied.out.splitlines()]
    types = [e["type"] for e in events]
    assert types[-1] == "change_summary"
    assert events[-1]["changes"] == {"add": 0, "change": 1, "remove": 0, "failed": 0, "skipped": 0}
    assert types.count("apply_start") == types.count("apply_complete") == 1
    assert "planned_change" in types and "apply_errored" not in types
    assert converged("plan", walkthrough.spec, "--detailed-exitcode").code == 0


def test_a_plan_with_errors_is_not_saved(
    converged: Cli, walkthrough: Walkthrough, tmp_path: Path
) -> None:
    spec = tmp_path / "no-source.yaml"
    unknown = "  - repository: nowhere\n    tags: [v1]\n    sign: false\n"
    spec.write_text(walkthrough.spec.read_text() + unknown)
    saved = tmp_path / "plan.json"
    result = converged("plan", spec, "--out", saved)
    assert result.code == 1
    assert f"The plan has errors, so it was not saved to {saved}." in result.err
    assert not saved.exists()


def test_apply_shows_plan_errors_as_plan_does(
    converged: Cli, walkthrough: Walkthrough, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """apply meets the same plan error: FILE:LINE:COL first, the spec line with a caret
    under it (the very lines plan prints), then one line that nothing was applied."""
    spec = tmp_path / "no-source.yaml"
    unknown = "  - repository: nowhere\n    tags: [v1]\n    sign: false\n"
    spec.write_text(walkthrough.spec.read_text() + unknown)
    planned = converged("plan", spec)
    findings = [
        line
        for line in planned.err.splitlines()
        if line.startswith(f"{spec}:") and ": error: " in line
    ]
    assert planned.code == 1 and findings, planned.err
    sandbox.clear_requests()
    applied = converged("apply", spec, "--auto-approve")
    assert applied.code == 1
    lines = applied.err.splitlines()
    first = lines.index(findings[0])  # word for word as plan put it
    found = re.match(rf"^{re.escape(str(spec))}:(\d+):(\d+): error: ", lines[first])
    assert found, lines[first]
    number, column = int(found[1]), int(found[2])
    source = spec.read_text().splitlines()[number - 1]
    assert lines[first + 1] == f"{number:>5} | {source}"
    assert lines[first + 2] == "      | " + " " * (column - 1) + "^"
    assert lines[-1].endswith("error(s); nothing was applied")
    assert "Plan:" not in applied.out and "Apply complete" not in applied.out
    assert writes(sandbox.requests()) == []


def test_apply_counts_what_the_plan_counted_and_prints_no_bookkeeping(
    cli: Cli, walkthrough: Walkthrough, tmp_path: Path
) -> None:
    spec = tmp_path / "counted.yaml"
    text = walkthrough.spec.read_text().replace(f"name: {REGISTRY}", "name: registrycounted")
    spec.write_text(text.replace("tags: [signed]", "tags: [signed, v2, v3]"))
    planned = cli("plan", spec)
    assert planned.code == 0, planned.text
    found = re.search(r"Plan: (\d+) to add, (\d+) to change, (\d+) to destroy\.", planned.out)
    assert found, planned.out
    applied = cli("apply", spec, "--auto-approve")
    assert applied.code == 0, applied.text
    add, change, destroy = found.groups()
    assert f"Apply complete! {add} added, {change} changed, {destroy} destroyed." in applied.out
    assert int(add) > 4  # resource group, registry, roles, imports and signatures
    assert ": recorded" not in applied.out and "registry:" not in applied.out


def test_the_documented_out_of_band_sdk_program_works_with_the_exports_alone(
    converged: Cli, walkthrough: Walkthrough, sandbox: SandboxHandle
) -> None:
    """docs/sandbox.md's example, run as a user runs it: a process with `sandbox env`."""
    import os
    import subprocess
    import sys

    from tests.e2e.plan_apply_support import ROOT

    program = ROOT / "examples" / "sandbox" / "out_of_band.py"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "ARM_"))}
    done = subprocess.run(
        [sys.executable, str(program), RG, REGISTRY],
        env=env | sandbox.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"{REGISTRY}: adminUserEnabled = True" in done.stdout
    drift = converged("plan", walkthrough.spec, "--detailed-exitcode", "--fail-on", "drift")
    assert drift.code == 2 and "adminUserEnabled" in drift.out
    assert converged("apply", walkthrough.spec, "--auto-approve").code == 0


@pytest.mark.parametrize(
    "example", ["sandbox-fleet.yaml", "hello-world.yaml", "notation-sandbox.yaml"]
)
def test_the_examples_plan_on_the_sandbox(example: str, cli: Cli) -> None:
    """What a new user tries first plans, without errors (fleet.yaml says it is
    illustrative: its principal and custom role are placeholders)."""
    from tests.e2e.plan_apply_support import ROOT

    planned = cli("plan", ROOT / "examples" / example, "--detailed-exitcode", "--output", "json")
    document = json.loads(planned.out)
    errors = [d for d in document["diagnostics"] if d["severity"] == "error"]
    assert planned.code in (0, 2) and not errors, errors or planned.err


def test_apply_on_an_80_column_terminal_fits_it(walkthrough: Walkthrough, tmp_path: Path) -> None:
    """A real terminal (a pty) 80 columns wide: the plan apply shows, the findings and the
    outcome lines all fit, the long ones (a role for a principal on a registry) folded,
    not cut (every action's name is still there, in full, across its lines); the live
    status line of a running action is cut to the width with an ellipsis."""
    import os

    from tests.support.terminal import run_on_terminal

    spec = tmp_path / "narrow.yaml"
    spec.write_text(
        walkthrough.spec.read_text().replace(f"name: {REGISTRY}", "name: registrynarrowterminal")
    )
    env = os.environ | walkthrough.env | {"NO_COLOR": "1"}
    run = run_on_terminal(["apply", str(spec), "--auto-approve"], columns=80, env=env)
    assert run.code == 0, run.screen
    control = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
    shown = [control.sub("", line).rsplit("\r", 1)[-1] for line in run.lines]
    assert all(len(line) <= 80 for line in shown), "\n".join(x for x in shown if len(x) > 80)
    flowing = " ".join(" ".join(shown).split())
    assert "Apply complete!" in flowing
    role = "role AcrImageSigner for DavidServiceAccount"
    assert flowing.count(role) >= 2  # in the plan, and the outcome of its action
    assert any(line.lstrip().startswith(f"done {role}") for line in shown)
    # its continuation, under the action's name (the live status lines may come between)
    rest = re.compile(r"^ {10}\(\S+\) on registrynarrowterminal")
    assert any(rest.match(line) for line in shown), "\n".join(shown)
