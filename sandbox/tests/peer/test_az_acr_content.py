"""``az acr repository show-tags``, ``az acr manifest list-metadata`` and ``az acr
manifest list-referrers`` on the loginServer's metadata and referrers APIs, the registry
named only by ``-n``/``-r`` (resolved through the generic resource list)."""

from __future__ import annotations

import pytest

from acr_sandbox.testing import SandboxHandle
from tests.e2e.registry_http import RegistryHttp
from tests.peer.azcli import AzCli

GROUP = "peer-content-rg"
REGISTRY = "peercontent1"
REPO = "app"
SIGNATURE = "application/vnd.cncf.notary.signature"
SBOM = "application/spdx+json"


@pytest.fixture(scope="module")
def content(az: AzCli, sandbox: SandboxHandle) -> dict[str, str]:
    """Two tags of one repository; the first one has a signature and an SBOM referrer."""
    sandbox.reset_state()
    az.run("group", "create", "--name", GROUP, "--location", "westeurope", "--output", "none")
    login_server = az.json(
        "acr", "create", "--name", REGISTRY, "--resource-group", GROUP, "--sku", "Premium"
    )["loginServer"]
    http = RegistryHttp(sandbox, login_server)
    first = http.push_image(REPO, "peer-content-one", "v1")
    second = http.push_image(REPO, "peer-content-two", "v2")
    signature, _ = http.push_referrer(REPO, first, SIGNATURE, b"signature-envelope")
    sbom, _ = http.push_referrer(REPO, first, SBOM, b'{"spdxVersion": "SPDX-2.3"}')
    return {"v1": first[0], "v2": second[0], "signature": signature, "sbom": sbom}


def test_show_tags_lists_the_repositorys_tags(az: AzCli, content: dict[str, str]) -> None:
    assert az.json("acr", "repository", "show-tags", "--name", REGISTRY, "--repository", REPO) == [
        "v1",
        "v2",
    ]
    detailed = az.json(
        "acr", "repository", "show-tags", "-n", REGISTRY, "--repository", REPO, "--detail"
    )
    assert {t["name"]: t["digest"] for t in detailed} == {"v1": content["v1"], "v2": content["v2"]}


def test_list_metadata_holds_every_manifest(az: AzCli, content: dict[str, str]) -> None:
    listed = az.json("acr", "manifest", "list-metadata", "--registry", REGISTRY, "--name", REPO)
    digests = {m["digest"]: m for m in listed}
    assert set(digests) == {content["v1"], content["v2"], content["signature"], content["sbom"]}
    assert digests[content["v1"]]["tags"] == ["v1"]
    assert digests[content["signature"]].get("tags") in (None, [])


def test_list_referrers_by_tag_and_by_artifact_type(az: AzCli, content: dict[str, str]) -> None:
    every = az.json(
        "acr", "manifest", "list-referrers", "--registry", REGISTRY, "--name", f"{REPO}:v1"
    )
    assert {(r["digest"], r["artifactType"]) for r in every["manifests"]} == {
        (content["signature"], SIGNATURE),
        (content["sbom"], SBOM),
    }
    signatures = az.json(
        "acr",
        "manifest",
        "list-referrers",
        "-r",
        REGISTRY,
        "-n",
        f"{REPO}@{content['v1']}",
        "--artifact-type",
        SIGNATURE,
    )
    assert [r["digest"] for r in signatures["manifests"]] == [content["signature"]]


def test_an_image_without_referrers_has_an_empty_list(az: AzCli, content: dict[str, str]) -> None:
    listed = az.json("acr", "manifest", "list-referrers", "-r", REGISTRY, "-n", f"{REPO}:v2")
    assert listed["manifests"] == []


def test_an_unknown_repository_is_the_cli_error(az: AzCli, content: dict[str, str]) -> None:
    result = az.fails("acr", "repository", "show-tags", "-n", REGISTRY, "--repository", "absent")
    assert "repository name not known to registry" in result.stderr  # ACR's NAME_UNKNOWN
