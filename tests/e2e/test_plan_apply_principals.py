"""Principal references resolve through Microsoft Graph at plan time: an unknown or an
ambiguous one is a plan error naming the spec field, before anything is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from acr_sandbox.testing import SandboxHandle
from tests.e2e.plan_apply_support import Cli, Walkthrough, writes

pytestmark = pytest.mark.e2e


def _spec_with(walkthrough: Walkthrough, tmp_path: Path, reference: str) -> Path:
    spec = tmp_path / "signer.yaml"
    spec.write_text(
        walkthrough.spec.read_text().replace("displayName: DavidServiceAccount", reference)
    )
    return spec


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("displayName: NobodyByThisName", "NobodyByThisName"),
        ("appId: 99999999-9999-9999-9999-999999999999", "99999999-9999-9999-9999-999999999999"),
        ("objectId: 88888888-8888-8888-8888-888888888888", "88888888-8888-8888-8888-888888888888"),
    ],
)
def test_unknown_principal_is_a_plan_error_before_any_write(
    reference: str,
    expected: str,
    cli: Cli,
    walkthrough: Walkthrough,
    sandbox: SandboxHandle,
    tmp_path: Path,
) -> None:
    spec = _spec_with(walkthrough, tmp_path, reference)
    sandbox.clear_requests()
    plan = cli("plan", spec, "--detailed-exitcode")
    applied = cli("apply", spec, "--auto-approve")
    assert plan.code == 1 and applied.code == 1
    assert expected in applied.err and f"{spec}:19:" in applied.err  # signers.0.principal
    assert writes(sandbox.requests()) == []


def test_ambiguous_display_name_lists_the_candidates(
    cli: Cli, walkthrough: Walkthrough, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    _, first, _ = sandbox.add_principal("TwinSigner")
    _, second, _ = sandbox.add_principal("TwinSigner")
    spec = _spec_with(walkthrough, tmp_path, "displayName: TwinSigner")
    applied = cli("apply", spec, "--auto-approve")
    assert applied.code == 1
    assert "TwinSigner" in applied.err
    assert first in applied.err and second in applied.err


def test_a_signer_named_by_object_id_resolves_and_converges(
    cli: Cli, walkthrough: Walkthrough, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    _, object_id, _ = sandbox.add_principal("ByObjectId")
    spec = _spec_with(walkthrough, tmp_path, f"objectId: {object_id}")
    assert cli("apply", spec, "--auto-approve").code == 0
    assert cli("plan", spec, "--detailed-exitcode").code == 0


@pytest.mark.parametrize("by", ["displayName", "objectId"])
def test_a_principal_type_the_directory_contradicts_is_explained(
    by: str, cli: Cli, walkthrough: Walkthrough, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """The spec says ServicePrincipal, the directory has a User of that name: the plan
    says so and how to fix it, not "no principal with displayName … in the directory"."""
    _, object_id, _ = sandbox.add_principal(f"PlatformUser{by}", "User")
    value = f"PlatformUser{by}" if by == "displayName" else object_id
    spec = _spec_with(walkthrough, tmp_path, f"{by}: {value}")
    sandbox.clear_requests()
    plan = cli("plan", spec, "--detailed-exitcode")
    assert plan.code == 1
    assert "principalType is ServicePrincipal in the spec" in plan.text
    assert f"as a User (PlatformUser{by}, object id {object_id}); set principalType: User" in (
        " ".join(plan.text.split())
    )
    assert "no principal with" not in plan.text
    assert writes(sandbox.requests()) == []
