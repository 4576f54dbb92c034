"""The generic resource lists through the real SDKs: ResourceManagementClient's
``resources.list``/``list_by_resource_group`` and azure-mgmt-keyvault's ``vaults.list``,
which reads ``/resources?$filter=resourceType eq 'Microsoft.KeyVault/vaults'``."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.containerregistry.models import Registry, Sku

from acr_sandbox.testing import SandboxHandle

REGISTRIES = "resourceType eq 'Microsoft.ContainerRegistry/registries'"


@pytest.fixture(scope="module")
def world(sandbox: SandboxHandle) -> SandboxHandle:
    sandbox.reset_state()
    clients = sandbox.clients()
    for group in ("res-a", "res-b"):
        clients.resources.resource_groups.create_or_update(group, {"location": "westeurope"})
    for group, name, sku in (("res-a", "resreg0001", "Basic"), ("res-b", "resreg0002", "Premium")):
        clients.registries.registries.begin_create(
            group, name, Registry(location="westeurope", sku=Sku(name=sku))
        ).result()
    body = {
        "location": "westeurope",
        "properties": {"tenantId": sandbox.tenant_id, "sku": {"family": "A", "name": "standard"}},
    }
    sandbox.keyvault_client().vaults.begin_create_or_update("res-a", "resvault01", body).result()
    return sandbox


def test_list_filters_by_resource_type(world: SandboxHandle) -> None:
    listed = list(world.clients().resources.resources.list(filter=REGISTRIES))
    assert sorted((r.name, r.sku.name) for r in listed) == [
        ("resreg0001", "Basic"),
        ("resreg0002", "Premium"),
    ]
    assert all(r.type == "Microsoft.ContainerRegistry/registries" for r in listed)


def test_list_by_resource_group_holds_every_kind(world: SandboxHandle) -> None:
    listed = world.clients().resources.resources.list_by_resource_group("res-a")
    assert sorted((r.type, r.name) for r in listed) == [
        ("Microsoft.ContainerRegistry/registries", "resreg0001"),
        ("Microsoft.KeyVault/vaults", "resvault01"),
    ]


def test_name_and_resource_group_filters_combine(world: SandboxHandle) -> None:
    resources = world.clients().resources.resources
    by_name = resources.list(filter=f"{REGISTRIES} and name eq 'RESREG0002'")
    assert [r.id.split("/")[4] for r in by_name] == ["res-b"]
    assert [r.name for r in resources.list(filter="substringof('vault', name)")] == ["resvault01"]


def test_key_vault_sdk_lists_vaults_through_the_generic_list(world: SandboxHandle) -> None:
    assert [v.name for v in world.keyvault_client().vaults.list()] == ["resvault01"]


def test_pages_follow_next_link(world: SandboxHandle) -> None:
    world.settings(page_size=1)
    try:
        names = [r.name for r in world.clients().resources.resources.list()]
    finally:
        world.settings(page_size=20)
    assert sorted(names) == ["resreg0001", "resreg0002", "resvault01"]


def test_an_unsupported_filter_is_arms_400(world: SandboxHandle) -> None:
    with pytest.raises(HttpResponseError) as refused:
        list(world.clients().resources.resources.list(filter="plan/publisher eq 'x'"))
    assert refused.value.status_code == 400
    assert refused.value.error.code == "InvalidFilterInQueryString"


def test_an_unknown_group_is_resource_group_not_found(world: SandboxHandle) -> None:
    with pytest.raises(HttpResponseError) as missing:
        list(world.clients().resources.resources.list_by_resource_group("res-none"))
    assert missing.value.error.code == "ResourceGroupNotFound"
