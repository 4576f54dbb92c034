"""``az role assignment`` with an appId as assignee: az resolves it through Graph
(``servicePrincipalNames/any(…)``, ``directoryObjects/getByIds``), then ARM records the
principal's real type."""

from __future__ import annotations

import pytest

from acr_sandbox.testing import SandboxHandle
from tests.peer.azcli import AzCli

GROUP = "peer-role-rg"
REGISTRY = "peerrolereg1"


@pytest.fixture(scope="module")
def scope(az: AzCli, sandbox: SandboxHandle) -> str:
    sandbox.reset_state()
    az.run("group", "create", "--name", GROUP, "--location", "westeurope", "--output", "none")
    created = az.json(
        "acr", "create", "--name", REGISTRY, "--resource-group", GROUP, "--sku", "Premium"
    )
    return str(created["id"])


@pytest.fixture(scope="module")
def pusher(sandbox: SandboxHandle) -> tuple[str, str]:
    app_id, object_id, _ = sandbox.add_principal("PeerRolePusher")
    return app_id, object_id


def test_create_by_app_id_records_a_service_principal(
    az: AzCli, scope: str, pusher: tuple[str, str]
) -> None:
    app_id, object_id = pusher
    created = az.json(
        "role",
        "assignment",
        "create",
        "--assignee",
        app_id,
        "--role",
        "AcrPush",
        "--scope",
        scope,
    )
    assert created["principalId"] == object_id
    assert created["principalType"] == "ServicePrincipal"
    assert created["scope"] == scope


def test_list_by_app_id_names_the_principal(az: AzCli, scope: str, pusher: tuple[str, str]) -> None:
    app_id, object_id = pusher
    listed = az.json("role", "assignment", "list", "--assignee", app_id, "--scope", scope)
    assert [(a["principalId"], a["roleDefinitionName"]) for a in listed] == [(object_id, "AcrPush")]
    assert listed[0]["principalName"] == app_id  # from the servicePrincipalNames Graph returns


def test_create_by_object_id_takes_the_type_from_graph(
    az: AzCli, scope: str, sandbox: SandboxHandle
) -> None:
    _, object_id, _ = sandbox.add_principal("PeerRolePuller")
    created = az.json(
        "role",
        "assignment",
        "create",
        "--assignee-object-id",
        object_id,
        "--role",
        "AcrPull",
        "--scope",
        scope,
    )
    assert created["principalType"] == "ServicePrincipal"


def test_a_wrong_principal_type_is_refused_as_azure_does(
    az: AzCli, scope: str, sandbox: SandboxHandle
) -> None:
    _, object_id, _ = sandbox.add_principal("PeerRoleMistyped")
    result = az.fails(
        "role",
        "assignment",
        "create",
        "--assignee-object-id",
        object_id,
        "--assignee-principal-type",
        "User",
        "--role",
        "AcrPull",
        "--scope",
        scope,
    )
    assert "UnmatchedPrincipalType" in result.stderr
    assert "'ServicePrincipal'" in result.stderr


def test_an_unknown_assignee_is_the_cli_error(az: AzCli, scope: str) -> None:
    result = az.fails(
        "role",
        "assignment",
        "create",
        "--assignee",
        "99999999-0000-0000-0000-000000000009",
        "--role",
        "AcrPull",
        "--scope",
        scope,
    )
    assert "Cannot find user or service principal in graph database" in result.stderr


def test_an_unknown_object_id_is_arms_principal_not_found(az: AzCli, scope: str) -> None:
    result = az.fails(
        "role",
        "assignment",
        "create",
        "--assignee-object-id",
        "99999999-0000-0000-0000-000000000009",
        "--assignee-principal-type",
        "ServicePrincipal",
        "--role",
        "AcrPull",
        "--scope",
        scope,
    )
    assert "(PrincipalNotFound)" in result.stderr
