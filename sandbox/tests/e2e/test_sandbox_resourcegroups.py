"""Resource groups through the real ResourceManagementClient: codes, errors, cascade."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.containerregistry.models import Registry, Sku

from acr_sandbox.testing import SandboxHandle


@pytest.fixture()
def clean(sandbox: SandboxHandle) -> SandboxHandle:
    sandbox.reset_state()
    return sandbox


def test_create_update_read_list_and_patch(clean: SandboxHandle) -> None:
    groups = clean.clients().resources.resource_groups
    assert groups.check_existence("rg-a") is False
    created = groups.create_or_update("rg-a", {"location": "West Europe", "tags": {"a": "1"}})
    assert created.location == "westeurope"
    assert created.properties.provisioning_state == "Succeeded"
    groups.create_or_update("rg-a", {"location": "westeurope", "tags": {"b": "2"}})
    assert groups.get("RG-A").tags == {"b": "2"}  # names compare case-insensitively
    groups.update("rg-a", {"tags": {"c": "3"}})
    assert groups.get("rg-a").tags == {"c": "3"}
    groups.create_or_update("rg-b", {"location": "northeurope"})
    assert sorted(g.name for g in groups.list()) == ["rg-a", "rg-b"]
    statuses = [
        e["status"]
        for e in clean.requests(arm_only=True)
        if e["method"] == "PUT" and e["path"].endswith("rg-a")
    ]
    assert statuses == [201, 200]


def test_missing_group_and_moved_location_are_refused(clean: SandboxHandle) -> None:
    groups = clean.clients().resources.resource_groups
    with pytest.raises(ResourceNotFoundError) as missing:
        groups.get("nope")
    assert missing.value.error.code == "ResourceGroupNotFound"
    assert "Resource group 'nope' could not be found." in str(missing.value)
    groups.create_or_update("rg-a", {"location": "westeurope"})
    with pytest.raises(HttpResponseError) as moved:
        groups.create_or_update("rg-a", {"location": "eastus"})
    assert moved.value.status_code == 409
    assert moved.value.error.code == "InvalidResourceGroupLocation"


def test_delete_is_long_running_and_removes_registries_vaults_and_assignments(
    clean: SandboxHandle,
) -> None:
    clients = clean.clients()
    clients.resources.resource_groups.create_or_update("rg-del", {"location": "westeurope"})
    registry = clients.registries.registries.begin_create(
        "rg-del", "regdel00001", Registry(location="westeurope", sku=Sku(name="Basic"))
    ).result()
    vaults = clean.keyvault_client().vaults
    properties = {"tenantId": clean.tenant_id, "sku": {"family": "A", "name": "standard"}}
    vaults.begin_create_or_update(
        "rg-del", "kv-del-0001", {"location": "westeurope", "properties": properties}
    ).result()
    clean.clear_requests()
    clients.resources.resource_groups.begin_delete("rg-del").result()
    first = next(e for e in clean.requests(arm_only=True) if e["method"] == "DELETE")
    assert first["status"] == 202
    assert clients.resources.resource_groups.check_existence("rg-del") is False
    assert [r.name for r in clients.registries.registries.list()] == []
    # a vault goes with its group as on Azure: soft-deleted, recoverable by name
    assert [v.name for v in vaults.list_by_subscription()] == []
    assert [v.name for v in vaults.list_deleted()] == ["kv-del-0001"]
    leftover = [
        a
        for a in clean.state()["roleAssignments"].values()
        if registry.id in a["properties"]["scope"]
    ]
    assert leftover == []
