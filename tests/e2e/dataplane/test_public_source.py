"""importImage from docker.io works offline: the sandbox answers for Docker Hub with a
deterministic stand-in image, so the walkthrough's `source:` can be used as written."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.containerregistry.models import ImportImageParameters, ImportSource, Registry, Sku

from acr_reconcile.registry.acr_auth import AcrTokenSource
from acr_reconcile.registry.client import RegistryClient
from acr_sandbox.dataplane.testimage import blob_digest, build_test_image, manifest_bytes
from acr_sandbox.testing import SandboxHandle

pytestmark = pytest.mark.e2e


def _import(clients: object, registry: str, image: str, tag: str) -> None:
    params = ImportImageParameters(
        source=ImportSource(registry_uri="docker.io", source_image=image), target_tags=[tag]
    )
    clients.registries.registries.begin_import_image("rg-hub", registry, params).result()  # type: ignore[attr-defined]


def test_import_from_docker_hub_gives_the_same_digest_every_time(sandbox: SandboxHandle) -> None:
    sandbox.reset_state()
    clients = sandbox.clients()
    clients.resources.resource_groups.create_or_update("rg-hub", {"location": "westeurope"})
    created = clients.registries.registries.begin_create(
        "rg-hub", "hubtarget", Registry(location="westeurope", sku=Sku(name="Premium"))
    ).result()
    _import(clients, "hubtarget", "library/hello-world:latest", "hello-world:one")
    _import(clients, "hubtarget", "hello-world", "hello-world:two")  # Hub's short spelling
    expected = blob_digest(manifest_bytes(build_test_image("docker.io/library/hello-world:latest")))
    credential = sandbox.credential()
    tokens = AcrTokenSource(credential, verify=sandbox.ca_bundle)
    with RegistryClient(created.login_server, tokens, sandbox.ca_bundle) as registry:
        one = registry.manifest("hello-world", "one")
        two = registry.manifest("hello-world", "two")
    tokens.close()
    credential.close()
    assert one is not None and two is not None
    assert one.digest == two.digest == expected

    with pytest.raises(HttpResponseError) as refused:
        _import(clients, "hubtarget", "library/hello-world@sha256:" + "0" * 64, "hello-world:pin")
    assert "serves tags only" in str(refused.value)
