"""export writes the spec of a live registry; plan on that spec finds nothing to change."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from acr_sandbox.testing import SandboxHandle
from tests.e2e.plan_apply_support import (
    REGISTRY,
    RG,
    Cli,
    Walkthrough,
    sdk,
)

pytestmark = pytest.mark.e2e


def test_exported_spec_is_in_sync_and_names_signers_by_app_id(
    cli: Cli, walkthrough: Walkthrough, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    assert cli("apply", walkthrough.spec, "--auto-approve").code == 0
    app_id, _ = sandbox.signer()
    _, other_id, _ = sandbox.add_principal("ReadOnlyPuller")
    scope = (
        f"/subscriptions/{sandbox.subscription_id}/resourceGroups/{RG}"
        f"/providers/Microsoft.ContainerRegistry/registries/{REGISTRY}"
    )
    from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters

    pull = f"/subscriptions/{sandbox.subscription_id}/providers/Microsoft.Authorization/"
    pull += "roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d"
    with sdk(sandbox) as clients:
        clients.authorization.role_assignments.create(
            scope,
            "0b9e3a52-3a43-4f4c-9c4e-6d1a3c2b1a00",
            RoleAssignmentCreateParameters(
                role_definition_id=pull, principal_id=other_id, principal_type="ServicePrincipal"
            ),
        )
    out = tmp_path / "exported.yaml"
    exported = cli(
        "export",
        "--subscription",
        sandbox.subscription_id,
        "--resource-group",
        RG,
        "--registry",
        REGISTRY,
        "--out",
        out,
    )
    assert exported.code == 0, exported.text
    spec = yaml.safe_load(out.read_text())
    assert spec["registry"] == {
        "name": REGISTRY,
        "sku": "Premium",
        "contentTrust": "enabled",
        "adminUserEnabled": False,
        "tags": {},
    }
    signers = {s["name"]: s for s in spec["signers"]}
    assert signers["DavidServiceAccount"]["principal"] == {"appId": app_id}
    assert signers["DavidServiceAccount"]["roles"] == ["AcrImageSigner", "AcrPush"]
    assert signers["ReadOnlyPuller"]["roles"] == ["AcrPull"]
    # the tags with their signed state: adopting the registry keeps signed tags signed
    assert spec["images"] == [
        {"repository": "hello-world", "tags": ["signed"], "sign": True},
        {"repository": "hello-world", "tags": ["unsigned"], "sign": False},
    ]
    plan = cli("plan", out, "--detailed-exitcode")
    assert plan.code == 0, plan.text


def test_export_takes_the_subscription_from_the_environment_and_checks_it(
    cli: Cli, walkthrough: Walkthrough, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("apply", walkthrough.spec, "--auto-approve").code == 0
    exported = cli("export", "--resource-group", RG, "--registry", REGISTRY, "--no-images")
    assert exported.code == 0, exported.text
    spec = yaml.safe_load(exported.out)
    assert spec["subscriptionId"] == walkthrough.env["AZURE_SUBSCRIPTION_ID"]
    assert "images" not in spec
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", "my-subscription")
    wrong = cli("export", "--resource-group", RG, "--registry", REGISTRY)
    assert wrong.code == 1
    assert "AZURE_SUBSCRIPTION_ID 'my-subscription' is not a subscription id" in wrong.err
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID")
    none = cli("export", "--resource-group", RG, "--registry", REGISTRY)
    assert none.code == 1 and "pass --subscription or set AZURE_SUBSCRIPTION_ID" in none.err


def test_export_of_a_missing_registry_is_an_error_naming_it(
    cli: Cli, sandbox: SandboxHandle
) -> None:
    missing = cli(
        "export",
        "--subscription",
        sandbox.subscription_id,
        "--resource-group",
        RG,
        "--registry",
        "nosuchregistry",
    )
    assert missing.code == 1
    assert "nosuchregistry" in missing.err
    assert "Traceback" not in missing.err
