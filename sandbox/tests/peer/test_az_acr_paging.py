"""What ``az acr`` needs beyond single pages and reads: ``manifest list-referrers``
following the referrers API's ``Link`` over more than one page (100 descriptors each),
with the artifact-type filter and annotations, and ``repository untag`` really removing
the tag (ACR's tag DELETE)."""

from __future__ import annotations

import pytest
from azure.mgmt.containerregistry.models import Registry, Sku

from acr_sandbox.testing import SandboxHandle
from tests.e2e.registry_http import RegistryHttp
from tests.peer.azcli import AzCli

REGISTRY = "peerpaging1"
SBOM = "application/vnd.example.sbom.v1"
SIGNATURE = "application/vnd.cncf.notary.signature"


@pytest.fixture(scope="module")
def http(az: AzCli, sandbox: SandboxHandle) -> RegistryHttp:
    sandbox.reset_state()
    clients = sandbox.clients()
    clients.resources.resource_groups.create_or_update("rg", {"location": "westeurope"})
    created = clients.registries.registries.begin_create(
        "rg", REGISTRY, Registry(location="westeurope", sku=Sku(name="Premium"))
    ).result()
    return RegistryHttp(sandbox, str(created.login_server))


def test_list_referrers_by_tag_and_by_type(az: AzCli, http: RegistryHttp) -> None:
    subject = http.push_image("app", "peer-refs-1", "v1")
    # more than one page of 100 descriptors: az must follow the Link header
    signatures = {
        http.push_referrer("app", subject, SIGNATURE, f"s{i}".encode())[0] for i in range(101)
    }
    sbom, _ = http.push_referrer("app", subject, SBOM, b"sbom", {"org.example": "x"})
    listed = az.json(
        "acr", "manifest", "list-referrers", "--registry", REGISTRY, "--name", "app:v1"
    )
    assert {m["digest"] for m in listed["manifests"]} == signatures | {sbom}
    by_digest = az.json(
        "acr", "manifest", "list-referrers", "--registry", REGISTRY,
        "--name", f"app@{subject[0]}", "--artifact-type", SBOM,
    )  # fmt: skip
    assert [(m["digest"], m["artifactType"]) for m in by_digest["manifests"]] == [(sbom, SBOM)]
    assert by_digest["manifests"][0]["annotations"] == {"org.example": "x"}


def test_repository_commands_use_the_metadata_api(az: AzCli, http: RegistryHttp) -> None:
    digest, _ = http.push_image("meta/app", "peer-meta-1", "v1")
    http.push_image("meta/app", "peer-meta-1", "v2")
    assert "meta/app" in az.json("acr", "repository", "list", "--name", REGISTRY)
    tags = az.json("acr", "repository", "show-tags", "--name", REGISTRY, "--repository", "meta/app")
    assert tags == ["v1", "v2"]
    az.run("acr", "repository", "untag", "--name", REGISTRY, "--image", "meta/app:v1")
    tags = az.json("acr", "repository", "show-tags", "--name", REGISTRY, "--repository", "meta/app")
    assert tags == ["v2"]
    manifests = az.json(
        "acr", "manifest", "list-metadata", "--registry", REGISTRY, "--name", "meta/app"
    )
    assert [(m["digest"], m["tags"]) for m in manifests] == [(digest, ["v2"])]
