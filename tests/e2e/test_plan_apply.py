"""plan/apply against the sandbox: the walkthrough, drift, read-only plans, approval rules.

The CLI runs in-process with the environment `acr-reconcile sandbox env` exports, so
every call goes through DefaultAzureCredential, the real SDK clients, the sandbox's ARM,
Entra ID and Graph, and the real docker-registry and notary-server behind it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from acr_sandbox.testing import SandboxHandle
from tests.e2e.plan_apply_support import (
    REGISTRY,
    RG,
    Cli,
    Walkthrough,
    acr_assignments,
    sdk,
    writes,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def converged(cli: Cli, walkthrough: Walkthrough, sandbox: SandboxHandle) -> Cli:
    """The walkthrough applied and in sync, whatever an earlier test left behind."""
    sandbox.clear_faults()
    result = cli("apply", walkthrough.spec, "--auto-approve")
    assert result.code == 0, result.text
    return cli


def test_walkthrough_converges_then_plan_is_clean_and_reapply_writes_nothing(
    converged: Cli, walkthrough: Walkthrough, sandbox: SandboxHandle
) -> None:
    plan = converged("plan", walkthrough.spec, "--detailed-exitcode")
    assert plan.code == 0, plan.text
    assert "No changes" in plan.out
    assert len(acr_assignments(sandbox)) == 2
    sandbox.clear_requests()
    again = converged("apply", walkthrough.spec, "--auto-approve")
    assert again.code == 0, again.text
    assert writes(sandbox.requests()) == []


def _delete_push_role(sandbox: SandboxHandle) -> None:
    with sdk(sandbox) as clients:
        for assignment in acr_assignments(sandbox):
            if assignment.role_definition_id.endswith("8311e382-0749-4cb8-b61a-304f252e45ec"):
                clients.authorization.role_assignments.delete_by_id(assignment.id)


def _enable_admin_user(sandbox: SandboxHandle) -> None:
    from azure.mgmt.containerregistry.models import (
        RegistryPropertiesUpdateParameters,
        RegistryUpdateParameters,
    )

    update = RegistryUpdateParameters(
        properties=RegistryPropertiesUpdateParameters(admin_user_enabled=True)
    )
    with sdk(sandbox) as clients:
        clients.registries.registries.begin_update(RG, REGISTRY, update).result()


def _disable_trust(sandbox: SandboxHandle) -> None:
    from azure.mgmt.containerregistry.models import (
        Policies,
        RegistryPropertiesUpdateParameters,
        RegistryUpdateParameters,
        TrustPolicy,
    )

    policies = Policies(trust_policy=TrustPolicy(type="Notary", status="disabled"))
    update = RegistryUpdateParameters(
        properties=RegistryPropertiesUpdateParameters(policies=policies)
    )
    with sdk(sandbox) as clients:
        clients.registries.registries.begin_update(RG, REGISTRY, update).result()


DRIFTS: dict[str, tuple[Callable[[SandboxHandle], None], str]] = {
    "role assignment deleted": (_delete_push_role, "+ role AcrPush for DavidServiceAccount"),
    "admin user enabled": (_enable_admin_user, "adminUserEnabled"),
    "trust disabled": (_disable_trust, "content trust on registrydavid: enabled"),
}


@pytest.mark.parametrize("drift", sorted(DRIFTS))
def test_out_of_band_drift_is_reported_read_only_and_apply_converges(
    drift: str, converged: Cli, walkthrough: Walkthrough, sandbox: SandboxHandle
) -> None:
    make_drift, shown = DRIFTS[drift]
    make_drift(sandbox)
    sandbox.clear_requests()
    plan = converged("plan", walkthrough.spec, "--detailed-exitcode")
    assert plan.code == 2, plan.text
    assert shown in plan.out
    changed = [line for line in plan.out.splitlines() if line.startswith(("  +", "  ~", "  -"))]
    assert changed and all("[drift]" in line for line in changed), plan.out
    assert writes(sandbox.requests()) == []  # plan never writes
    applied = converged("apply", walkthrough.spec, "--auto-approve")
    assert applied.code == 0, applied.text
    assert converged("plan", walkthrough.spec, "--detailed-exitcode").code == 0
    assert len(acr_assignments(sandbox)) == 2


def test_fail_on_drift_ignores_spec_changes_but_not_drift(
    converged: Cli, walkthrough: Walkthrough, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    spec = tmp_path / "admin.yaml"
    spec.write_text(
        walkthrough.spec.read_text().replace("adminUserEnabled: false", "adminUserEnabled: true")
    )
    assert converged("plan", spec, "--detailed-exitcode").code == 2
    assert converged("plan", spec, "--detailed-exitcode", "--fail-on", "drift").code == 0
    _delete_push_role(sandbox)
    drifted = converged("plan", walkthrough.spec, "--detailed-exitcode", "--fail-on", "drift")
    assert drifted.code == 2, drifted.text


def test_a_spec_change_that_leaves_the_registry_alone_is_still_recorded_as_applied(
    converged: Cli, walkthrough: Walkthrough, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    spec = tmp_path / "pull-too.yaml"
    spec.write_text(
        walkthrough.spec.read_text().replace(
            "roles: [AcrImageSigner, AcrPush]", "roles: [AcrImageSigner, AcrPush, AcrPull]"
        )
    )
    applied = converged("apply", spec, "--auto-approve")
    assert applied.code == 0, applied.text
    assert "recorded" not in applied.out  # bookkeeping, not a change of the user's
    _delete_push_role(sandbox)
    drifted = converged("plan", spec, "--detailed-exitcode", "--fail-on", "drift")
    assert drifted.code == 2, drifted.text  # drift, not a pending spec change
    assert converged("apply", spec, "--auto-approve").code == 0


def test_apply_without_a_tty_and_without_auto_approve_changes_nothing(
    converged: Cli, walkthrough: Walkthrough, sandbox: SandboxHandle
) -> None:
    _enable_admin_user(sandbox)
    sandbox.clear_requests()
    refused = converged("apply", walkthrough.spec)
    assert refused.code == 1
    assert "no prompt without a TTY" in refused.err
    assert writes(sandbox.requests()) == []


def _apply_on_a_tty(walkthrough: Walkthrough, answer: str) -> tuple[int, str]:
    """`apply SPEC` as a subprocess whose stdin is a terminal, answering the prompt."""
    import os
    import pty
    import subprocess
    import sys

    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "acr_reconcile", "apply", str(walkthrough.spec)],
            stdin=terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=os.environ | walkthrough.env,
            text=True,
        )
        os.write(controller, f"{answer}\n".encode())
        out, _ = process.communicate(timeout=120)
    finally:
        os.close(controller)
        os.close(terminal)
    return process.returncode, out


@pytest.mark.parametrize(("answer", "code"), [("no", 1), ("yes", 0)])
def test_apply_on_a_tty_asks_and_only_yes_applies(
    answer: str, code: int, converged: Cli, walkthrough: Walkthrough, sandbox: SandboxHandle
) -> None:
    _enable_admin_user(sandbox)
    sandbox.clear_requests()
    returned, out = _apply_on_a_tty(walkthrough, answer)
    assert returned == code, out
    assert "Only 'yes' will be accepted" in out
    changed = writes(sandbox.requests())
    assert (changed == []) is (answer == "no"), changed


def test_disabling_trust_needs_allow_destroy_trust(
    converged: Cli, walkthrough: Walkthrough, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    spec = tmp_path / "untrusted.yaml"
    text = walkthrough.spec.read_text().replace("contentTrust: enabled", "contentTrust: disabled")
    spec.write_text(text.split("images:")[0])
    sandbox.clear_requests()
    refused = converged("apply", spec, "--auto-approve")
    assert refused.code == 1
    assert "--allow-destroy-trust" in refused.err
    assert writes(sandbox.requests()) == []
    allowed = converged("apply", spec, "--auto-approve", "--allow-destroy-trust")
    assert allowed.code == 0, allowed.text
    assert converged("plan", spec, "--detailed-exitcode").code == 0


def test_saved_plan_applies_exactly_when_fresh_and_is_refused_when_stale(
    converged: Cli, walkthrough: Walkthrough, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    _enable_admin_user(sandbox)
    saved = tmp_path / "fresh.plan"
    planned = converged("plan", walkthrough.spec, "--out", saved)
    assert planned.code == 0
    applied = converged("apply", saved)
    assert applied.code == 0, applied.text
    secrets = [v for k, v in walkthrough.env.items() if "SECRET" in k or "PASSPHRASE" in k]
    for text in (saved.read_text(), planned.text, applied.text):
        assert not any(secret in text for secret in secrets)
    assert converged("plan", walkthrough.spec, "--detailed-exitcode").code == 0

    _enable_admin_user(sandbox)
    stale = tmp_path / "stale.plan"
    assert converged("plan", walkthrough.spec, "--out", stale).code == 0
    _delete_push_role(sandbox)
    sandbox.clear_requests()
    refused = converged("apply", stale)
    assert refused.code == 1
    assert "stale" in refused.err and REGISTRY in refused.err
    assert writes(sandbox.requests()) == []


def _second_registry_spec(walkthrough: Walkthrough, directory: Path, name: str) -> Path:
    spec = directory / f"{name}.yaml"
    text = walkthrough.spec.read_text().split("images:")[0]
    spec.write_text(text.replace(f"name: {REGISTRY}", f"name: {name}"))
    return spec


def test_first_plan_is_stale_once_its_registry_was_created_meanwhile(
    cli: Cli, walkthrough: Walkthrough, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    from azure.mgmt.containerregistry.models import Registry, Sku

    spec = _second_registry_spec(walkthrough, tmp_path, "registrylate")
    saved = tmp_path / "first.plan"
    assert cli("plan", spec, "--out", saved).code == 0
    with sdk(sandbox) as clients:
        clients.resources.resource_groups.create_or_update(RG, {"location": "westeurope"})
        body = Registry(location="westeurope", sku=Sku(name="Basic"))
        clients.registries.registries.begin_create(RG, "registrylate", body).result()
    sandbox.clear_requests()
    refused = cli("apply", saved)
    assert refused.code == 1
    assert "registrylate" in refused.err and "now exists" in refused.err
    assert writes(sandbox.requests()) == []


def _error_rules(document: dict[str, Any]) -> set[str]:
    return {
        str(d["details"].get("rule")) for d in document["diagnostics"] if d["severity"] == "error"
    }


def test_todays_azure_refuses_new_trust_at_plan_time_before_any_write(
    cli: Cli, walkthrough: Walkthrough, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    import json

    spec = _second_registry_spec(walkthrough, tmp_path, "registrytoday")
    sandbox.settings(dct="current")
    try:
        sandbox.clear_requests()
        plan = cli("plan", spec, "--detailed-exitcode", "--output", "json")
        applied = cli("apply", spec, "--auto-approve")
    finally:
        sandbox.settings(dct="legacy")
    assert plan.code == 1 and applied.code == 1
    assert _error_rules(json.loads(plan.out)) == {"content-trust-unsupported"}
    assert "Notation" in applied.text and "2026-05-31" in applied.text
    assert writes(sandbox.requests()) == []


def test_a_passphrase_that_does_not_open_the_key_stops_apply_before_any_write(
    converged: Cli,
    walkthrough: Walkthrough,
    sandbox: SandboxHandle,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    spec = tmp_path / "more-tags.yaml"
    spec.write_text(walkthrough.spec.read_text().replace("tags: [signed]", "tags: [signed, v2]"))
    monkeypatch.setenv("DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE", "not the passphrase")
    sandbox.clear_requests()
    refused = converged("apply", spec, "--auto-approve")
    assert refused.code == 1
    assert "does not open" in refused.err and "DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE" in (
        refused.err
    )
    assert "not the passphrase" not in refused.text
    assert writes(sandbox.requests()) == []  # the import of v2 did not run either
