"""Role definitions and assignments through the real AuthorizationManagementClient."""

from __future__ import annotations

import time
import uuid

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.authorization.models import RoleAssignmentCreateParameters
from azure.mgmt.containerregistry.models import Registry, Sku

from acr_sandbox.testing import SandboxHandle

SIGNER = "6cef56e8-d556-48e5-a04f-b8e64114680f"
PUSH = "8311e382-0749-4cb8-b61a-304f252e45ec"


@pytest.fixture()
def registry_id(sandbox: SandboxHandle) -> str:
    sandbox.reset_state()
    clients = sandbox.clients()
    clients.resources.resource_groups.create_or_update("rg", {"location": "westeurope"})
    registry = clients.registries.registries.begin_create(
        "rg", "regroles001", Registry(location="westeurope", sku=Sku(name="Premium"))
    ).result()
    return str(registry.id)


def _definition(sandbox: SandboxHandle, guid: str) -> str:
    provider = "providers/Microsoft.Authorization/roleDefinitions"
    return f"/subscriptions/{sandbox.subscription_id}/{provider}/{guid}"


def _params(sandbox: SandboxHandle, guid: str, principal: str) -> RoleAssignmentCreateParameters:
    return RoleAssignmentCreateParameters(
        role_definition_id=_definition(sandbox, guid),
        principal_id=principal,
        principal_type="ServicePrincipal",
    )


def test_built_in_definitions_by_name_and_id(sandbox: SandboxHandle, registry_id: str) -> None:
    definitions = sandbox.clients().authorization.role_definitions
    found = list(definitions.list(registry_id, filter="roleName eq 'AcrImageSigner'"))
    assert [(d.name, d.role_name, d.role_type) for d in found] == [
        (SIGNER, "AcrImageSigner", "BuiltInRole")
    ]
    assert found[0].id == _definition(sandbox, SIGNER)
    owner = definitions.get(registry_id, "8e3af657-a8ff-443c-a75c-2fe8c4bcb635")
    assert owner.role_name == "Owner"
    names = {d.role_name for d in definitions.list(registry_id)}
    assert {"Contributor", "Reader", "User Access Administrator", "AcrPush", "AcrPull"} <= names
    with pytest.raises(ResourceNotFoundError):
        definitions.get(registry_id, str(uuid.uuid4()))


def test_assign_read_list_and_delete(sandbox: SandboxHandle, registry_id: str) -> None:
    _, principal, _ = sandbox.add_principal(f"signer-{uuid.uuid4().hex[:6]}")
    assignments = sandbox.clients().authorization.role_assignments
    name = str(uuid.uuid4())
    created = assignments.create(registry_id, name, _params(sandbox, SIGNER, principal))
    assert (created.scope, created.principal_id) == (registry_id, principal)
    again = assignments.create(registry_id, name, _params(sandbox, SIGNER, principal))
    assert again.id == created.id  # same name, same body: idempotent
    assert assignments.get(registry_id, name).role_definition_id == _definition(sandbox, SIGNER)
    by_principal = assignments.list_for_scope(registry_id, filter=f"principalId eq '{principal}'")
    assert [a.name for a in by_principal] == [name]
    assigned = assignments.list_for_scope(registry_id, filter=f"assignedTo('{principal}')")
    assert [a.name for a in assigned] == [name]
    at_scope = {a.principal_id for a in assignments.list_for_scope(registry_id, filter="atScope()")}
    assert principal in at_scope and len(at_scope) == 2  # and the owner from the subscription
    group = registry_id.split("/providers/")[0]
    assert name in {a.name for a in assignments.list_for_scope(group)}  # below the group
    assert name not in {a.name for a in assignments.list_for_scope(group, filter="atScope()")}
    assert name in {a.name for a in assignments.list_for_subscription()}
    assignments.delete(registry_id, name)
    with pytest.raises(ResourceNotFoundError) as gone:
        assignments.get(registry_id, name)
    assert gone.value.error.code == "RoleAssignmentNotFound"


def test_same_assignment_under_another_name_conflicts(
    sandbox: SandboxHandle, registry_id: str
) -> None:
    _, principal, _ = sandbox.add_principal(f"dup-{uuid.uuid4().hex[:6]}")
    assignments = sandbox.clients().authorization.role_assignments
    assignments.create(registry_id, str(uuid.uuid4()), _params(sandbox, PUSH, principal))
    with pytest.raises(ResourceExistsError) as exists:
        assignments.create(registry_id, str(uuid.uuid4()), _params(sandbox, PUSH, principal))
    assert exists.value.status_code == 409
    assert exists.value.error.code == "RoleAssignmentExists"


def test_unknown_principal_is_not_found(sandbox: SandboxHandle, registry_id: str) -> None:
    assignments = sandbox.clients().authorization.role_assignments
    ghost = str(uuid.uuid4())
    with pytest.raises(HttpResponseError) as refused:
        assignments.create(registry_id, str(uuid.uuid4()), _params(sandbox, PUSH, ghost))
    assert refused.value.status_code == 400
    assert refused.value.error.code == "PrincipalNotFound"
    assert ghost.replace("-", "") in refused.value.error.message


def test_new_principal_is_invisible_during_the_replication_lag(
    sandbox: SandboxHandle, registry_id: str
) -> None:
    sandbox.settings(replication_lag=1.5)
    try:
        _, principal, _ = sandbox.add_principal(f"fresh-{uuid.uuid4().hex[:6]}")
        assignments = sandbox.clients().authorization.role_assignments
        name = str(uuid.uuid4())
        with pytest.raises(HttpResponseError) as early:
            assignments.create(registry_id, name, _params(sandbox, PUSH, principal))
        assert early.value.error.code == "PrincipalNotFound"
        time.sleep(1.6)
        assert assignments.create(registry_id, name, _params(sandbox, PUSH, principal)).name == name
    finally:
        sandbox.settings(replication_lag=0.0)


def test_registry_scope_must_exist(sandbox: SandboxHandle, registry_id: str) -> None:
    assignments = sandbox.clients().authorization.role_assignments
    missing_scope = registry_id.replace("regroles001", "regabsent01")
    with pytest.raises(ResourceNotFoundError):
        assignments.create(
            missing_scope, str(uuid.uuid4()), _params(sandbox, PUSH, str(uuid.uuid4()))
        )
