"""ARM authorization: what a principal may do follows its role assignments."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.authorization.models import RoleAssignmentCreateParameters
from azure.mgmt.containerregistry.models import Registry, Sku

from acr_sandbox.testing import SandboxHandle

READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
PUSH = "8311e382-0749-4cb8-b61a-304f252e45ec"


@pytest.fixture()
def world(sandbox: SandboxHandle) -> Iterator[tuple[SandboxHandle, str]]:
    sandbox.reset_state()
    clients = sandbox.clients()
    clients.resources.resource_groups.create_or_update("rg", {"location": "westeurope"})
    registry = clients.registries.registries.begin_create(
        "rg", "regrbac0001", Registry(location="westeurope", sku=Sku(name="Basic"))
    ).result()
    yield sandbox, str(registry.id)


def _as(sandbox: SandboxHandle, app_id: str, secret: str) -> object:
    from azure.identity import ClientSecretCredential

    credential = ClientSecretCredential(
        sandbox.tenant_id,
        app_id,
        secret,
        authority=sandbox.arm_url,
        disable_instance_discovery=True,
        connection_verify=sandbox.ca_bundle,
    )
    return sandbox.clients(credential=credential, retry_total=0)


def _grant(sandbox: SandboxHandle, scope: str, principal: str, role: str) -> None:
    definition = (
        f"/subscriptions/{sandbox.subscription_id}/providers/Microsoft.Authorization/"
        f"roleDefinitions/{role}"
    )
    sandbox.clients().authorization.role_assignments.create(
        scope,
        str(uuid.uuid4()),
        RoleAssignmentCreateParameters(
            role_definition_id=definition, principal_id=principal, principal_type="ServicePrincipal"
        ),
    )


def _forbidden(call: object) -> str:
    with pytest.raises(HttpResponseError) as refused:
        call()  # type: ignore[operator]
    assert refused.value.status_code == 403
    assert refused.value.error.code == "AuthorizationFailed"
    return str(refused.value.error.message)


def test_no_role_means_no_access_and_data_plane_roles_grant_no_arm_action(
    world: tuple[SandboxHandle, str],
) -> None:
    sandbox, registry_id = world
    app_id, principal, secret = sandbox.add_principal(f"nobody-{uuid.uuid4().hex[:6]}")
    clients = _as(sandbox, app_id, secret)
    message = _forbidden(lambda: clients.registries.registries.get("rg", "regrbac0001"))  # type: ignore[attr-defined]
    assert "Microsoft.ContainerRegistry/registries/read" in message and registry_id in message
    _grant(sandbox, registry_id, principal, PUSH)
    _forbidden(lambda: clients.registries.registries.get("rg", "regrbac0001"))  # type: ignore[attr-defined]


def test_reader_reads_contributor_writes_neither_assigns_roles(
    world: tuple[SandboxHandle, str],
) -> None:
    sandbox, registry_id = world
    app_id, principal, secret = sandbox.add_principal(f"reader-{uuid.uuid4().hex[:6]}")
    _grant(
        sandbox, f"/subscriptions/{sandbox.subscription_id}/resourceGroups/rg", principal, READER
    )
    clients = _as(sandbox, app_id, secret)
    assert clients.registries.registries.get("rg", "regrbac0001").name == "regrbac0001"  # type: ignore[attr-defined]
    assert clients.resources.resource_groups.get("rg").name == "rg"  # type: ignore[attr-defined]
    _forbidden(
        lambda: clients.resources.resource_groups.create_or_update(  # type: ignore[attr-defined]
            "rg", {"location": "westeurope", "tags": {"x": "y"}}
        )
    )
    _grant(sandbox, registry_id, principal, CONTRIBUTOR)
    clients.registries.registries.begin_update("rg", "regrbac0001", {"tags": {"t": "1"}}).result()  # type: ignore[attr-defined]
    message = _forbidden(lambda: _grant_as(clients, sandbox, registry_id, principal))
    assert "Microsoft.Authorization/roleAssignments/write" in message


def _grant_as(clients: object, sandbox: SandboxHandle, scope: str, principal: str) -> None:
    definition = (
        f"/subscriptions/{sandbox.subscription_id}/providers/Microsoft.Authorization/"
        f"roleDefinitions/{PUSH}"
    )
    clients.authorization.role_assignments.create(  # type: ignore[attr-defined]
        scope,
        str(uuid.uuid4()),
        RoleAssignmentCreateParameters(role_definition_id=definition, principal_id=principal),
    )
