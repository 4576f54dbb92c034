"""az finds the sandbox as a custom cloud from its metadata and signs in with a service
principal; the tokens it gets are shaped like Entra's for a v1 resource."""

from __future__ import annotations

import base64
import json
from typing import Any

from acr_sandbox.testing import SandboxHandle
from tests.peer.azcli import CLOUD, AzCli


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded


def test_the_registered_cloud_takes_its_endpoints_from_the_sandbox_metadata(
    az: AzCli, sandbox: SandboxHandle
) -> None:
    cloud = az.json("cloud", "show", "--name", CLOUD)
    assert cloud["isActive"] is True
    assert cloud["endpoints"]["resourceManager"] == sandbox.arm_url
    assert cloud["endpoints"]["activeDirectory"] == f"{sandbox.arm_url}/"
    assert cloud["endpoints"]["microsoftGraphResourceId"] == f"{sandbox.arm_url}/"


def test_login_lists_the_sandbox_subscription(az: AzCli, sandbox: SandboxHandle) -> None:
    account = az.json("account", "show")
    assert account["id"] == sandbox.subscription_id
    assert account["tenantId"] == sandbox.tenant_id
    assert account["user"] == {"name": sandbox.client_id, "type": "servicePrincipal"}


def test_the_arm_token_is_a_v1_token_for_the_resource_az_asks_for(
    az: AzCli, sandbox: SandboxHandle
) -> None:
    token = az.json("account", "get-access-token")
    claims = _claims(token["accessToken"])
    # az asks for 'https://management.core.windows.net//.default'; Entra answers a v1
    # token whose audience is the resource, with its one trailing slash.
    assert claims["aud"] == "https://management.core.windows.net/"
    assert claims["ver"] == "1.0"
    assert claims["iss"] == f"{sandbox.arm_url}/{sandbox.tenant_id}/"
    assert claims["appid"] == sandbox.client_id and claims["tid"] == sandbox.tenant_id
    assert "azp" not in claims


def test_a_graph_token_has_the_graph_audience(az: AzCli, sandbox: SandboxHandle) -> None:
    token = az.json("account", "get-access-token", "--resource-type", "ms-graph")
    claims = _claims(token["accessToken"])
    assert claims["aud"] == f"{sandbox.arm_url}/"
    assert claims["ver"] == "1.0"


def test_an_unknown_subscription_is_the_cli_error_not_a_crash(az: AzCli) -> None:
    result = az.fails("group", "list", "--subscription", "99999999-9999-9999-9999-999999999999")
    assert "99999999-9999-9999-9999-999999999999" in result.stderr
