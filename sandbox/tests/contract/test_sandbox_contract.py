"""Every emulator response body, per ARM operation, against the official Azure specs.

The bodies are captured over raw HTTPS (exactly what the sandbox sends), one exchange per
operation, then each is validated against the spec's response schema and checked for
properties the spec does not declare.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from acr_sandbox.testing import SandboxHandle
from tests.contract.openapi import (
    ACR,
    ASSIGNMENTS,
    COMMON_V2,
    COMMON_V6,
    DEFINITIONS,
    RESOURCES,
    ref,
    validate,
)

ACR_API, RG_API, AUTHZ_API = "2025-11-01", "2025-04-01", "2022-04-01"
RESOURCES_API = "2024-11-01"  # what az 2.91 sends for the generic resource list
SIGNER = "6cef56e8-d556-48e5-a04f-b8e64114680f"


@dataclass(frozen=True)
class Exchange:
    status: int
    body: Any
    headers: dict[str, str]


class Arm:
    def __init__(self, sandbox: SandboxHandle) -> None:
        token = sandbox.credential().get_token("https://management.azure.com/.default").token
        self._headers = {"Authorization": f"Bearer {token}"}
        self._sandbox = sandbox
        self.sub = f"/subscriptions/{sandbox.subscription_id}"

    def call(self, method: str, path: str, api: str, body: Any = None) -> Exchange:
        url = path if path.startswith("https://") else self._sandbox.arm_url + path
        params = None if "api-version=" in url else {"api-version": api}
        response = requests.request(
            method,
            url,
            params=params,
            json=body,
            headers=self._headers,
            verify=self._sandbox.ca_bundle,
            timeout=30,
        )
        parsed = response.json() if response.content else None
        return Exchange(response.status_code, parsed, dict(response.headers))


def _capture(sandbox: SandboxHandle) -> dict[str, Exchange]:
    sandbox.reset_state()
    sandbox.settings(dct="current")
    arm = Arm(sandbox)
    rg = f"{arm.sub}/resourcegroups/contract-rg"
    reg = f"{arm.sub}/resourceGroups/contract-rg/providers/Microsoft.ContainerRegistry/registries"
    got: dict[str, Exchange] = {}
    got["ResourceGroups_CreateOrUpdate"] = arm.call("PUT", rg, RG_API, {"location": "westeurope"})
    got["ResourceGroups_Get"] = arm.call("GET", rg, RG_API)
    got["ResourceGroups_Update"] = arm.call("PATCH", rg, RG_API, {"tags": {"a": "b"}})
    got["ResourceGroups_List"] = arm.call("GET", f"{arm.sub}/resourcegroups", RG_API)
    got["ResourceGroups_Get (404)"] = arm.call("GET", f"{rg}-absent", RG_API)
    basic = {"location": "westeurope", "sku": {"name": "Basic"}}
    got["Registries_Create"] = arm.call("PUT", f"{reg}/contractbasic1", ACR_API, basic)
    monitor = got["Registries_Create"].headers["Azure-AsyncOperation"]
    got["Registries status monitor"] = arm.call("GET", monitor, ACR_API)
    create = {"location": "westeurope", "sku": {"name": "Premium"}}
    got["Registries_Create (Premium)"] = arm.call("PUT", f"{reg}/contractreg1", ACR_API, create)
    got["Registries_Get"] = arm.call("GET", f"{reg}/contractreg1", ACR_API)
    got["Registries_Update"] = arm.call(
        "PATCH", f"{reg}/contractreg1", ACR_API, {"tags": {"team": "x"}}
    )
    trust = {"properties": {"policies": {"trustPolicy": {"type": "Notary", "status": "enabled"}}}}
    got["Registries_Update (400)"] = arm.call("PATCH", f"{reg}/contractreg1", ACR_API, trust)
    got["Registries_ListByResourceGroup"] = arm.call("GET", reg, ACR_API)
    got["Registries_List"] = arm.call(
        "GET", f"{arm.sub}/providers/Microsoft.ContainerRegistry/registries", ACR_API
    )
    got["Registries_CheckNameAvailability"] = arm.call(
        "POST",
        f"{arm.sub}/providers/Microsoft.ContainerRegistry/checkNameAvailability",
        ACR_API,
        {"name": "contractreg1", "type": "Microsoft.ContainerRegistry/registries"},
    )
    got["Registries_Get (404)"] = arm.call("GET", f"{reg}/contractabsent", ACR_API)
    kind = "$filter=resourceType eq 'Microsoft.ContainerRegistry/registries'"
    got["Resources_List"] = arm.call(
        "GET", f"{arm.sub}/resources?{kind}&api-version={RESOURCES_API}", RESOURCES_API
    )
    got["Resources_ListByResourceGroup"] = arm.call(
        "GET", f"{rg}/resources?api-version={RESOURCES_API}&$top=1", RESOURCES_API
    )
    got["Resources_List (400)"] = arm.call(
        "GET", f"{arm.sub}/resources?$filter=color eq 'blue'&api-version={RESOURCES_API}", ""
    )
    registry_id = got["Registries_Get"].body["id"]
    _, principal, _ = sandbox.add_principal("contract-signer")
    assignment = f"{registry_id}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}"
    role = f"{arm.sub}/providers/Microsoft.Authorization/roleDefinitions/{SIGNER}"
    body = {"properties": {"roleDefinitionId": role, "principalId": principal}}
    got["RoleAssignments_Create"] = arm.call("PUT", assignment, AUTHZ_API, body)
    got["RoleAssignments_Get"] = arm.call("GET", assignment, AUTHZ_API)
    got["RoleAssignments_ListForScope"] = arm.call(
        "GET", f"{registry_id}/providers/Microsoft.Authorization/roleAssignments", AUTHZ_API
    )
    got["RoleAssignments_ListForSubscription"] = arm.call(
        "GET", f"{arm.sub}/providers/Microsoft.Authorization/roleAssignments", AUTHZ_API
    )
    other = assignment.rsplit("/", 1)[0] + f"/{uuid.uuid4()}"
    got["RoleAssignments_Create (409)"] = arm.call("PUT", other, AUTHZ_API, body)
    ghost = {"properties": {"roleDefinitionId": role, "principalId": str(uuid.uuid4())}}
    got["RoleAssignments_Create (400)"] = arm.call("PUT", other, AUTHZ_API, ghost)
    got["RoleAssignments_Delete"] = arm.call("DELETE", assignment, AUTHZ_API)
    got["RoleDefinitions_Get"] = arm.call("GET", role, AUTHZ_API)
    got["RoleDefinitions_List"] = arm.call(
        "GET",
        f"{registry_id}/providers/Microsoft.Authorization/roleDefinitions?api-version="
        f"{AUTHZ_API}&$filter=roleName eq 'AcrPush'",
        AUTHZ_API,
    )
    sandbox.settings(dct="legacy")
    return got


# operation → (expected status, schema of the body)
CONTRACT: dict[str, tuple[int, str]] = {
    "ResourceGroups_CreateOrUpdate": (201, ref(RESOURCES, "ResourceGroup")),
    "ResourceGroups_Get": (200, ref(RESOURCES, "ResourceGroup")),
    "ResourceGroups_Update": (200, ref(RESOURCES, "ResourceGroup")),
    "ResourceGroups_List": (200, ref(RESOURCES, "ResourceGroupListResult")),
    "ResourceGroups_Get (404)": (404, ref(RESOURCES, "CloudError")),
    "Registries_Create": (201, ref(ACR, "Registry")),
    "Registries_Create (Premium)": (200, ref(ACR, "Registry")),
    "Registries status monitor": (200, ref(COMMON_V6, "OperationStatusResult")),
    "Registries_Get": (200, ref(ACR, "Registry")),
    "Registries_Update": (200, ref(ACR, "Registry")),
    "Registries_Update (400)": (400, ref(COMMON_V6, "ErrorResponse")),
    "Registries_ListByResourceGroup": (200, ref(ACR, "RegistryListResult")),
    "Registries_List": (200, ref(ACR, "RegistryListResult")),
    "Registries_CheckNameAvailability": (200, ref(ACR, "RegistryNameStatus")),
    "Registries_Get (404)": (404, ref(COMMON_V6, "ErrorResponse")),
    "Resources_List": (200, ref(RESOURCES, "ResourceListResult")),
    "Resources_ListByResourceGroup": (200, ref(RESOURCES, "ResourceListResult")),
    "Resources_List (400)": (400, ref(RESOURCES, "CloudError")),
    "RoleAssignments_Create": (201, ref(ASSIGNMENTS, "RoleAssignment")),
    "RoleAssignments_Get": (200, ref(ASSIGNMENTS, "RoleAssignment")),
    "RoleAssignments_ListForScope": (200, ref(ASSIGNMENTS, "RoleAssignmentListResult")),
    "RoleAssignments_ListForSubscription": (200, ref(ASSIGNMENTS, "RoleAssignmentListResult")),
    "RoleAssignments_Create (409)": (409, ref(COMMON_V2, "ErrorResponse")),
    "RoleAssignments_Create (400)": (400, ref(COMMON_V2, "ErrorResponse")),
    "RoleAssignments_Delete": (200, ref(ASSIGNMENTS, "RoleAssignment")),
    "RoleDefinitions_Get": (200, ref(DEFINITIONS, "RoleDefinition")),
    "RoleDefinitions_List": (200, ref(DEFINITIONS, "RoleDefinitionListResult")),
}


@pytest.fixture(scope="module")
def exchanges(sandbox: SandboxHandle) -> dict[str, Exchange]:
    return _capture(sandbox)


@pytest.mark.parametrize("operation", sorted(CONTRACT))
def test_response_matches_the_azure_spec(operation: str, exchanges: dict[str, Exchange]) -> None:
    status, schema = CONTRACT[operation]
    exchange = exchanges[operation]
    assert exchange.status == status, exchange.body
    assert validate(exchange.body, schema) == []


def test_every_captured_exchange_has_a_contract(exchanges: dict[str, Exchange]) -> None:
    assert set(exchanges) == set(CONTRACT)


def test_long_running_headers_are_what_the_sdk_parses(exchanges: dict[str, Exchange]) -> None:
    created = exchanges["Registries_Create"]
    assert int(created.headers["Retry-After"]) >= 0  # integer seconds, as the SDK requires
    assert "/operationStatuses/" in created.headers["Azure-AsyncOperation"]
    assert created.body["properties"]["provisioningState"] == "Creating"
    assert exchanges["Registries_Get"].body["properties"]["provisioningState"] == "Succeeded"


def test_a_premium_create_that_completes_at_once_answers_200_without_a_monitor(
    exchanges: dict[str, Exchange],
) -> None:
    created = exchanges["Registries_Create (Premium)"]
    assert created.body["properties"]["provisioningState"] == "Succeeded"
    assert "Azure-AsyncOperation" not in created.headers
    assert created.body["properties"]["networkRuleSet"] == {"defaultAction": "Allow", "ipRules": []}
    assert "networkRuleSet" not in exchanges["Registries_Create"].body["properties"]  # Basic


def test_the_generic_list_finds_registries_by_type_and_pages_by_top(
    exchanges: dict[str, Exchange],
) -> None:
    listed = exchanges["Resources_List"].body["value"]
    assert sorted(item["name"] for item in listed) == ["contractbasic1", "contractreg1"]
    premium = next(item for item in listed if item["name"] == "contractreg1")
    assert premium["sku"] == {"name": "Premium", "tier": "Premium"}
    assert premium["type"] == "Microsoft.ContainerRegistry/registries"
    assert "properties" not in premium  # Azure lists the generic view only
    assert len(exchanges["Resources_ListByResourceGroup"].body["value"]) == 1
    error = exchanges["Resources_List (400)"].body["error"]
    assert error["code"] == "InvalidFilterInQueryString"


def test_check_name_availability_counts_as_a_read(exchanges: dict[str, Exchange]) -> None:
    headers = exchanges["Registries_CheckNameAvailability"].headers
    assert "x-ms-ratelimit-remaining-subscription-reads" in headers
    assert "x-ms-ratelimit-remaining-subscription-writes" not in headers
