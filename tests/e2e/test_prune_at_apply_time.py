""" "Never prune the caller's own assignment" is decided for the identity running apply:
a plan made by one identity that prunes another's assignment leaves that assignment in
place when the other identity is the one applying it."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from acr_sandbox.testing import SandboxHandle
from tests.e2e.plan_apply_support import (
    REGISTRY,
    Walkthrough,
    cli_runner,
    registry_id,
    sdk,
)

pytestmark = pytest.mark.e2e
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
ACR_PUSH = "8311e382-0749-4cb8-b61a-304f252e45ec"


def _assign(sandbox: SandboxHandle, scope: str, principal: str, role: str) -> None:
    from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters

    definition = (
        f"/subscriptions/{sandbox.subscription_id}"
        f"/providers/Microsoft.Authorization/roleDefinitions/{role}"
    )
    body = RoleAssignmentCreateParameters(
        role_definition_id=definition, principal_id=principal, principal_type="ServicePrincipal"
    )
    with sdk(sandbox) as clients:
        clients.authorization.role_assignments.create(scope, str(uuid.uuid4()), body)


def _pushers(sandbox: SandboxHandle) -> set[str]:
    scope = registry_id(sandbox)
    with sdk(sandbox) as clients:
        return {
            str(a.principal_id)
            for a in clients.authorization.role_assignments.list_for_scope(scope)
            if (a.scope or "").lower() == scope.lower()
            and a.role_definition_id.rsplit("/", 1)[-1].lower() == ACR_PUSH
        }


def test_a_plan_pruning_the_applier_keeps_the_appliers_access(
    sandbox: SandboxHandle,
    walkthrough: Walkthrough,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    spec = tmp_path / "prune.yaml"
    spec.write_text(walkthrough.spec.read_text().replace("prune: false", "prune: true"))
    as_planner = cli_runner(walkthrough.env, monkeypatch, capsys)
    first = as_planner("apply", spec, "--auto-approve")
    assert first.code == 0, first.text

    app_id, applier, secret = sandbox.add_principal(f"release-job-{uuid.uuid4().hex[:6]}")
    _assign(sandbox, f"/subscriptions/{sandbox.subscription_id}", applier, OWNER)
    _assign(sandbox, registry_id(sandbox), applier, ACR_PUSH)  # not in the spec: a prune

    saved = tmp_path / "plan.json"
    planned = as_planner("plan", spec, "--out", saved)  # the pull-request job's identity
    assert planned.code == 0, planned.text
    assert applier in planned.out  # the plan does prune the applier's push role

    env = walkthrough.env | {"AZURE_CLIENT_ID": app_id, "AZURE_CLIENT_SECRET": secret}
    as_applier = cli_runner(env, monkeypatch, capsys)
    applied = as_applier("apply", saved)
    assert applied.code == 0, applied.text
    assert "kept: it is the identity running apply" in applied.text
    assert applier in _pushers(sandbox)
    assert REGISTRY in applied.text
