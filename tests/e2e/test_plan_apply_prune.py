"""roleAssignments.prune: assignments of the managed roles at the registry that the spec
does not list are removed by apply; other roles and the caller's own access stay."""

from __future__ import annotations

import pytest

from acr_sandbox.testing import SandboxHandle
from tests.e2e.plan_apply_support import (
    Cli,
    Walkthrough,
    registry_id,
    sdk,
)

pytestmark = pytest.mark.e2e

PUSH = "8311e382-0749-4cb8-b61a-304f252e45ec"
PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"


def _assign(sandbox: SandboxHandle, name: str, principal: str, role: str) -> None:
    from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters

    sub = sandbox.subscription_id
    definition = f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{role}"
    body = RoleAssignmentCreateParameters(
        role_definition_id=definition, principal_id=principal, principal_type="ServicePrincipal"
    )
    with sdk(sandbox) as clients:
        clients.authorization.role_assignments.create(registry_id(sandbox), name, body)


def _held(sandbox: SandboxHandle) -> set[tuple[str, str]]:
    scope = registry_id(sandbox).lower()
    with sdk(sandbox) as clients:
        return {
            (a.principal_id, a.role_definition_id.rsplit("/", 1)[-1])
            for a in clients.authorization.role_assignments.list_for_scope(registry_id(sandbox))
            if (a.scope or "").lower() == scope
        }


def test_prune_removes_only_unlisted_assignments_of_managed_roles(
    cli: Cli, walkthrough: Walkthrough, sandbox: SandboxHandle
) -> None:
    spec = walkthrough.spec
    spec.write_text(spec.read_text().replace("prune: false", "prune: true"))
    assert cli("apply", spec, "--auto-approve").code == 0
    _, stranger, _ = sandbox.add_principal("Stranger")
    _assign(sandbox, "3a7c2c9e-0f0b-4a57-9a4b-7c7c0e3b9d01", stranger, PUSH)
    _assign(sandbox, "3a7c2c9e-0f0b-4a57-9a4b-7c7c0e3b9d02", stranger, PULL)
    plan = cli("plan", spec, "--detailed-exitcode")
    assert plan.code == 2
    pruned = [line for line in plan.out.splitlines() if line.endswith("[prune]")]
    assert len(pruned) == 1 and "AcrPush" in pruned[0]
    # the plan names whom it removes (one batched directory read), in every output
    assert f"ServicePrincipal Stranger ({stranger})" in pruned[0]
    for output in ("markdown", "github", "json"):
        shown = cli("plan", spec, "--output", output)
        assert f"ServicePrincipal Stranger ({stranger})" in shown.out, output
    assert cli("apply", spec, "--auto-approve").code == 0
    held = _held(sandbox)
    assert (stranger, PUSH) not in held  # a managed role, not listed: pruned
    assert (stranger, PULL) in held  # a role this spec does not manage: kept
    assert cli("plan", spec, "--detailed-exitcode").code == 0
