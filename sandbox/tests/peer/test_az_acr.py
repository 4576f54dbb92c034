"""``az acr`` against the sandbox, resolving registries by name alone (through the
generic resource list), as users run it."""

from __future__ import annotations

import base64
import json

import pytest

from acr_sandbox.testing import SandboxHandle
from tests.peer.azcli import AzCli

GROUP = "peer-acr-rg"
REGISTRY = "peeracrreg1"


@pytest.fixture(scope="module")
def registry(az: AzCli, sandbox: SandboxHandle) -> dict[str, str]:
    sandbox.reset_state()
    az.run("group", "create", "--name", GROUP, "--location", "westeurope", "--output", "none")
    created = az.json(
        "acr", "create", "--name", REGISTRY, "--resource-group", GROUP, "--sku", "Premium"
    )
    return {"id": created["id"], "loginServer": created["loginServer"]}


def test_create_answers_the_finished_premium_registry(
    az: AzCli, registry: dict[str, str], sandbox: SandboxHandle
) -> None:
    sandbox.clear_requests()
    shown = az.json("acr", "show", "--name", REGISTRY)  # no -g: found through /resources
    assert shown["id"] == registry["id"]
    assert shown["provisioningState"] == "Succeeded"
    assert shown["networkRuleSet"]["defaultAction"] == "Allow"
    lists = [e for e in sandbox.requests() if e["path"].endswith("/resources")]
    assert lists and all(e["status"] == 200 for e in lists)


def test_login_exposes_a_refresh_token_for_the_login_server(
    az: AzCli, registry: dict[str, str]
) -> None:
    exposed = az.json("acr", "login", "--name", REGISTRY, "--expose-token")
    assert exposed["loginServer"] == registry["loginServer"]
    assert exposed["username"] == "00000000-0000-0000-0000-000000000000"
    payload = exposed["refreshToken"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["aud"] == registry["loginServer"]
    assert claims["grant_type"] == "refresh_token"


def test_repository_list_by_registry_name(az: AzCli, registry: dict[str, str]) -> None:
    az.run(
        "acr",
        "import",
        "--name",
        REGISTRY,
        "--source",
        "docker.io/library/hello-world:latest",
        "--image",
        "hello:peer",
    )
    assert az.json("acr", "repository", "list", "--name", REGISTRY) == ["hello"]


def test_content_trust_show_by_registry_name(az: AzCli, registry: dict[str, str]) -> None:
    trust = az.json("acr", "config", "content-trust", "show", "--name", REGISTRY)
    assert trust == {"status": "disabled", "type": "Notary"}


def test_check_name_sees_the_taken_name(az: AzCli, registry: dict[str, str]) -> None:
    taken = az.json("acr", "check-name", "--name", REGISTRY)
    assert taken["nameAvailable"] is False
    assert taken["reason"] == "AlreadyExists"
    assert az.json("acr", "check-name", "--name", "peerfreename1")["nameAvailable"] is True


def test_an_unknown_registry_name_is_the_cli_error(az: AzCli, registry: dict[str, str]) -> None:
    result = az.fails("acr", "repository", "list", "--name", "peernosuchreg")
    assert "peernosuchreg" in result.stderr
