"""The data plane inside the whole sandbox: registries and role assignments made through the
real ARM SDK clients, callers authenticated by real azure-identity credentials against the
sandbox's Entra ID, and the official notary CLI with a service principal's secret."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from azure.core.exceptions import HttpResponseError
from azure.mgmt.authorization.models import RoleAssignmentCreateParameters
from azure.mgmt.containerregistry.models import (
    ImportImageParameters,
    ImportSource,
    Registry,
    Sku,
)

from acr_reconcile.errors import RegistryError
from acr_reconcile.registry.acr_auth import AcrTokenSource
from acr_reconcile.registry.client import RegistryClient
from acr_sandbox.dataplane.scopes import ACR_IMAGE_SIGNER, ACR_PULL, ACR_PUSH
from acr_sandbox.testing import SandboxHandle
from tests.e2e.dataplane.dataplane_harness import run_notary
from tests.support.images import push_test_image

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Principal:
    app_id: str
    object_id: str
    secret: str


class World:
    """Registries and principals made through the sandbox's ARM and admin API."""

    def __init__(self, sandbox: SandboxHandle) -> None:
        self.sandbox = sandbox
        self.clients = sandbox.clients()
        self.clients.resources.resource_groups.create_or_update("rg-dp", {"location": "westeurope"})
        self.opened: list[Any] = []

    def registry(self, name: str) -> Any:
        poller = self.clients.registries.registries.begin_create(
            "rg-dp", name, Registry(location="westeurope", sku=Sku(name="Premium"))
        )
        return poller.result()

    def principal(self, label: str) -> Principal:
        app_id, object_id, secret = self.sandbox.add_principal(f"{label}-{uuid.uuid4().hex[:6]}")
        return Principal(app_id, object_id, secret)

    def grant(self, scope: str, who: Principal, role: str) -> str:
        name = str(uuid.uuid4())
        definition = (
            f"/subscriptions/{self.sandbox.subscription_id}/providers/"
            f"Microsoft.Authorization/roleDefinitions/{role}"
        )
        self.clients.authorization.role_assignments.create(
            scope,
            name,
            RoleAssignmentCreateParameters(
                role_definition_id=definition,
                principal_id=who.object_id,
                principal_type="ServicePrincipal",
            ),
        )
        return name

    def revoke(self, scope: str, name: str) -> None:
        self.clients.authorization.role_assignments.delete(scope, name)

    def registry_client(self, login_server: str, who: Principal) -> RegistryClient:
        """The tool's client, with a real ClientSecretCredential and the exchange flow."""
        from azure.identity import ClientSecretCredential

        credential = ClientSecretCredential(
            self.sandbox.tenant_id,
            who.app_id,
            who.secret,
            authority=self.sandbox.arm_url,
            disable_instance_discovery=True,
            connection_verify=self.sandbox.ca_bundle,
        )
        source = AcrTokenSource(
            credential, verify=self.sandbox.ca_bundle, tenant_id=self.sandbox.tenant_id
        )
        client = RegistryClient(login_server, source, verify=self.sandbox.ca_bundle)
        self.opened += [credential, source, client]
        return client

    def close(self) -> None:
        while self.opened:
            self.opened.pop().close()


@pytest.fixture()
def world(sandbox: SandboxHandle) -> Iterator[World]:
    sandbox.reset_state()
    sandbox.settings(replication_lag=0.0)
    made = World(sandbox)
    yield made
    made.close()
    sandbox.close_clients()


def test_push_pull_and_scopes_follow_arm_role_assignments(world: World) -> None:
    registry = world.registry("dpflow0001")
    login_server = registry.login_server
    pusher, reader = world.principal("pusher"), world.principal("reader")
    world.grant(registry.id, pusher, ACR_PUSH)

    digest = push_test_image(world.registry_client(login_server, pusher), "hello-world", "v1", "a")
    ref = world.registry_client(login_server, pusher).manifest("hello-world", "v1")
    assert ref is not None and ref.digest == digest

    with pytest.raises(RegistryError, match="401"):
        world.registry_client(login_server, reader).manifest("hello-world", "v1")
    assignment = world.grant(registry.id, reader, ACR_PULL)
    reading = world.registry_client(login_server, reader)
    assert reading.tags("hello-world") == ["v1"]
    with pytest.raises(RegistryError, match="401"):
        push_test_image(reading, "hello-world", "v2", "b")
    world.revoke(registry.id, assignment)
    with pytest.raises(RegistryError, match="401"):
        world.registry_client(login_server, reader).manifest("hello-world", "v1")


def test_notary_cli_signs_only_with_acr_image_signer(world: World, tmp_path: Path) -> None:
    registry = world.registry("dptrust0001")
    login_server = registry.login_server
    signer, pusher = world.principal("signer"), world.principal("pusher")
    world.grant(registry.id, signer, ACR_PUSH)
    world.grant(registry.id, signer, ACR_IMAGE_SIGNER)
    world.grant(registry.id, pusher, ACR_PUSH)
    client = world.registry_client(login_server, signer)
    digest = push_test_image(client, "hello-world", "signed", "s")
    ref = client.manifest("hello-world", "signed")
    assert ref is not None
    ca = Path(world.sandbox.ca_bundle)
    gun = f"{login_server}/hello-world"
    as_signer = f"{signer.app_id}:{signer.secret}"

    init = run_notary(login_server, ca, tmp_path / "signer", as_signer, "init", gun, "-p")
    assert init.returncode == 0, init.stdout + init.stderr
    published = run_notary(
        login_server,
        ca,
        tmp_path / "signer",
        as_signer,
        "addhash",
        gun,
        "signed",
        str(ref.size),
        "--sha256",
        digest.removeprefix("sha256:"),
        "-p",
    )
    assert published.returncode == 0, published.stdout + published.stderr

    as_pusher = f"{pusher.app_id}:{pusher.secret}"
    listed = run_notary(login_server, ca, tmp_path / "pusher", as_pusher, "list", gun)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "signed" in listed.stdout and digest.removeprefix("sha256:") in listed.stdout
    refused = run_notary(
        login_server, ca, tmp_path / "pusher", as_pusher, "init", f"{login_server}/other", "-p"
    )
    assert refused.returncode != 0
    assert "not authorized" in refused.stdout + refused.stderr
    assert pusher.secret not in refused.stdout + refused.stderr


def test_import_image_through_arm_between_sandbox_registries(world: World) -> None:
    source, target = world.registry("dpsource0001"), world.registry("dptarget0001")
    who = world.principal("importer")
    world.grant(source.id, who, ACR_PUSH)
    world.grant(target.id, who, ACR_PULL)
    digest = push_test_image(
        world.registry_client(source.login_server, who), "library/hello-world", "latest", "import"
    )
    registries = world.clients.registries.registries
    registries.begin_import_image(
        "rg-dp",
        "dptarget0001",
        ImportImageParameters(
            source=ImportSource(resource_id=source.id, source_image="library/hello-world:latest"),
            target_tags=["hello-world:signed", "hello-world:unsigned"],
            mode="NoForce",
        ),
    ).result()

    reading = world.registry_client(target.login_server, who)
    assert sorted(reading.tags("hello-world")) == ["signed", "unsigned"]
    ref = reading.manifest("hello-world", "signed")
    assert ref is not None and ref.digest == digest

    with pytest.raises(HttpResponseError) as again:
        registries.begin_import_image(
            "rg-dp",
            "dptarget0001",
            ImportImageParameters(
                source=ImportSource(resource_id=source.id, source_image="library/hello-world"),
                target_tags=["hello-world:signed"],
            ),
        ).result()
    assert again.value.error is not None and again.value.error.code == "TagAlreadyExists"


def test_registries_are_apart_and_deletion_removes_content(world: World) -> None:
    first, second = world.registry("dpaparta001"), world.registry("dpapartb001")
    assert first.login_server != second.login_server
    who = world.principal("both")
    world.grant(first.id, who, ACR_PUSH)
    world.grant(second.id, who, ACR_PUSH)
    push_test_image(world.registry_client(first.login_server, who), "app", "v1", "apart")
    assert world.registry_client(second.login_server, who).manifest("app", "v1") is None

    status = world.sandbox.status()
    assert "dpaparta001" in json.dumps(status)

    world.clients.registries.registries.begin_delete("rg-dp", "dpaparta001").result()
    assert not (world.sandbox.state_dir / "dataplane" / "dpaparta001").exists()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"https://{first.login_server}/v2/", verify=world.sandbox.ca_bundle, timeout=5)
