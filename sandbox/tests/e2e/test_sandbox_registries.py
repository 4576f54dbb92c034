"""Registries through the real ContainerRegistryManagementClient: long-running writes,
lists with nextLink, the global name check, delete and importImage."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.containerregistry.models import (
    ImportImageParameters,
    ImportSource,
    Registry,
    RegistryNameCheckRequest,
    RegistryNameStatus,
    RegistryUpdateParameters,
    Sku,
)

from acr_sandbox.testing import SandboxHandle

KIND = "Microsoft.ContainerRegistry/registries"


@pytest.fixture()
def clean(sandbox: SandboxHandle) -> SandboxHandle:
    sandbox.reset_state()
    sandbox.clients().resources.resource_groups.create_or_update("rg", {"location": "westeurope"})
    return sandbox


def _create(sandbox: SandboxHandle, name: str, sku: str = "Premium", rg: str = "rg") -> Registry:
    poller = sandbox.clients().registries.registries.begin_create(
        rg, name, Registry(location="westeurope", sku=Sku(name=sku))
    )
    return poller.result()


def test_create_runs_as_a_long_running_operation(clean: SandboxHandle) -> None:
    clean.clear_requests()
    registry = _create(clean, "regcreate01", sku="Basic")
    assert registry.provisioning_state == "Succeeded"
    assert registry.sku.tier == "Basic"
    assert registry.login_server
    assert registry.creation_date is not None
    policies = registry.policies
    assert policies.trust_policy.type == "Notary" and policies.trust_policy.status == "disabled"
    assert policies.retention_policy.days == 7
    assert policies.export_policy.status == "enabled"
    assert policies.azure_ad_authentication_as_arm_policy.status == "enabled"
    calls = [
        (e["method"], e["status"], e["path"].rsplit("/", 2)[-2])
        for e in clean.requests(arm_only=True)
    ]
    assert calls[0] == ("PUT", 201, "registries")
    assert ("GET", 200, "operationStatuses") in calls


def test_a_premium_create_that_completes_at_once_is_answered_200(clean: SandboxHandle) -> None:
    clean.clear_requests()
    registry = _create(clean, "regcreate02")
    assert (registry.provisioning_state, registry.sku.tier) == ("Succeeded", "Premium")
    assert registry.network_rule_set.default_action == "Allow"
    calls = [(e["method"], e["status"]) for e in clean.requests(arm_only=True)]
    assert calls == [("PUT", 200)]  # no status monitor to poll


def test_a_premium_create_still_polls_when_provisioning_takes_time(clean: SandboxHandle) -> None:
    clean.settings(lro_polls=1, lro_retry_after=0)
    clean.clear_requests()
    try:
        assert _create(clean, "regcreate03").provisioning_state == "Succeeded"
    finally:
        clean.settings(lro_polls=0, lro_retry_after=1)
    calls = [(e["method"], e["status"]) for e in clean.requests(arm_only=True)]
    assert calls[0] == ("PUT", 201)


def test_provisioning_state_follows_the_status_monitor(clean: SandboxHandle) -> None:
    clean.settings(lro_polls=2, lro_retry_after=0)
    clean.clear_requests()
    try:
        clients = clean.clients()
        poller = clients.registries.registries.begin_create(
            "rg", "regslow0001", Registry(location="westeurope", sku=Sku(name="Basic"))
        )
        assert poller.result().provisioning_state == "Succeeded"
    finally:
        clean.settings(lro_polls=0, lro_retry_after=1)
    polls = [e for e in clean.requests(arm_only=True) if "operationStatuses" in e["path"]]
    assert len(polls) == 3  # two InProgress answers, then Succeeded


def test_update_changes_tags_and_sku_and_admin_user(clean: SandboxHandle) -> None:
    _create(clean, "regupdate01", sku="Basic")
    updated = (
        clean.clients()
        .registries.registries.begin_update(
            "rg",
            "regupdate01",
            RegistryUpdateParameters(tags={"team": "a"}, sku=Sku(name="Standard")),
        )
        .result()
    )
    assert (updated.tags, updated.sku.name, updated.sku.tier) == (
        {"team": "a"},
        "Standard",
        "Standard",
    )
    assert updated.provisioning_state == "Succeeded"


def test_missing_registry_and_bad_name(clean: SandboxHandle) -> None:
    registries = clean.clients().registries.registries
    with pytest.raises(ResourceNotFoundError) as missing:
        registries.get("rg", "absent0001")
    assert missing.value.error.code == "ResourceNotFound"
    with pytest.raises(HttpResponseError) as bad:
        _create(clean, "bad-name!")
    assert bad.value.status_code == 400


def test_lists_are_paged_with_next_link(clean: SandboxHandle) -> None:
    clean.settings(page_size=2)
    try:
        names = [f"regpage{i:04d}" for i in range(5)]
        for name in names:
            _create(clean, name, sku="Basic")
        clean.clear_requests()
        registries = clean.clients().registries.registries
        assert sorted(r.name for r in registries.list_by_resource_group("rg")) == names
        assert sorted(r.name for r in registries.list()) == names
    finally:
        clean.settings(page_size=20)
    list_calls = [e for e in clean.requests(arm_only=True) if e["method"] == "GET"]
    assert len(list_calls) == 6  # 3 pages each


def test_name_check_is_global(clean: SandboxHandle) -> None:
    clients = clean.clients()
    clients.resources.resource_groups.create_or_update("rg-other", {"location": "westeurope"})
    _create(clean, "regglobal01", rg="rg-other")

    def check(name: str) -> RegistryNameStatus:
        request = RegistryNameCheckRequest(name=name, type=KIND)
        return clients.registries.registries.check_name_availability(request)

    taken = check("RegGlobal01")
    assert (taken.name_available, taken.reason) == (False, "AlreadyExists")
    assert check("regfree0001").name_available is True
    assert check("x!").reason == "Invalid"
    with pytest.raises(HttpResponseError) as conflict:
        _create(clean, "regglobal01")
    assert conflict.value.status_code == 409


def test_delete_is_long_running(clean: SandboxHandle) -> None:
    _create(clean, "regdelete01", sku="Basic")
    registries = clean.clients().registries.registries
    clean.clear_requests()
    registries.begin_delete("rg", "regdelete01").result()
    assert [e["status"] for e in clean.requests(arm_only=True) if e["method"] == "DELETE"] == [202]
    with pytest.raises(ResourceNotFoundError):
        registries.get("rg", "regdelete01")


def _import(sandbox: SandboxHandle, registry_uri: str, image: str, tag: str) -> None:
    parameters = ImportImageParameters(
        source=ImportSource(registry_uri=registry_uri, source_image=image), target_tags=[tag]
    )
    registries = sandbox.clients().registries.registries
    registries.begin_import_image("rg", "regimport01", parameters).result()


def test_import_runs_as_a_long_running_operation(clean: SandboxHandle) -> None:
    _create(clean, "regimport01", sku="Basic")
    clean.clear_requests()
    _import(clean, "docker.io", "library/hello-world:latest", "hello-world:imported")
    calls = [(e["method"], e["status"]) for e in clean.requests(arm_only=True)]
    assert calls[0] == ("POST", 202)
    assert calls[-1] == ("GET", 200)  # the operation result


def test_import_failure_becomes_the_operation_error(clean: SandboxHandle) -> None:
    _create(clean, "regimport01", sku="Basic")
    with pytest.raises(HttpResponseError) as failed:
        _import(clean, "registry.example.invalid", "library/none:latest", "none:latest")
    assert failed.value.status_code == 400
    assert failed.value.error.code == "InvalidParameter"  # the data plane works offline


def test_registry_names_are_unique_across_subscriptions(clean: SandboxHandle) -> None:
    other = clean.add_subscription(name="second")
    assert clean.add_subscription(other) == other  # adding again changes nothing
    clients = clean.clients_for(other)
    clients.resources.resource_groups.create_or_update("rg", {"location": "westeurope"})
    clients.registries.registries.begin_create(
        "rg", "regsecond01", Registry(location="westeurope", sku=Sku(name="Basic"))
    ).result()
    request = RegistryNameCheckRequest(name="regsecond01", type=KIND)
    home = clean.clients().registries.registries
    assert home.check_name_availability(request).reason == "AlreadyExists"
    assert [r.name for r in home.list()] == []  # lists stay per subscription
    assert [r.name for r in clients.registries.registries.list()] == ["regsecond01"]


def test_concurrent_imports_of_one_new_docker_hub_image_all_succeed(clean: SandboxHandle) -> None:
    _create(clean, "regimport01", sku="Basic")
    registries = clean.clients().registries.registries
    pollers = [
        registries.begin_import_image(
            "rg",
            "regimport01",
            ImportImageParameters(
                source=ImportSource(registry_uri="docker.io", source_image="library/fresh:1.0"),
                target_tags=[f"fresh:copy{i}"],
            ),
        )
        for i in range(6)
    ]
    for poller in pollers:
        poller.result()
    assert poller.status() == "Succeeded"
