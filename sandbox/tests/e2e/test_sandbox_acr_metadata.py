"""ACR's data plane through the real azure-containerregistry client, default settings:
push with upload_blob/set_manifest (relative upload Location), list repositories, tags
and manifests, read and change their properties, and delete a tag for real."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from azure.containerregistry import ArtifactTagOrder, ContainerRegistryClient
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.containerregistry.models import Registry, Sku

from acr_sandbox.dataplane.testimage import SCHEMA2, build_test_image, manifest_bytes
from acr_sandbox.testing import SandboxHandle
from tests.e2e.registry_http import RegistryHttp

AUDIENCE = "https://containerregistry.azure.net"


@pytest.fixture(scope="module")
def registry(sandbox: SandboxHandle) -> str:
    sandbox.reset_state()
    clients = sandbox.clients()
    clients.resources.resource_groups.create_or_update("rg", {"location": "westeurope"})
    created = clients.registries.registries.begin_create(
        "rg", "regmeta01", Registry(location="westeurope", sku=Sku(name="Premium"))
    ).result()
    return str(created.login_server)


@pytest.fixture()
def client(sandbox: SandboxHandle, registry: str) -> Iterator[ContainerRegistryClient]:
    with ContainerRegistryClient(
        f"https://{registry}",
        sandbox.credential(),
        audience=AUDIENCE,
        connection_verify=sandbox.ca_bundle,
    ) as made:
        yield made


def _push(client: ContainerRegistryClient, repo: str, seed: str, tag: str) -> str:
    image = build_test_image(seed)
    for blob in (image.config, image.layer):
        client.upload_blob(repo, io.BytesIO(blob))
    manifest = json.loads(manifest_bytes(image))
    return str(client.set_manifest(repo, manifest, tag=tag, media_type=SCHEMA2))


def test_upload_and_set_manifest_push_an_image(client: ContainerRegistryClient) -> None:
    digest = _push(client, "hello/world", "meta-1", "v1")
    got = client.get_manifest("hello/world", "v1")
    assert got.digest == digest
    assert got.manifest["mediaType"] == SCHEMA2


def test_repositories_tags_and_manifests_are_listed(client: ContainerRegistryClient) -> None:
    first = _push(client, "listing", "meta-2", "a")
    second = _push(client, "listing", "meta-3", "b")
    _push(client, "listing", "meta-3", "c")
    assert {"hello/world", "listing"} <= set(client.list_repository_names())
    assert list(client.list_repository_names(results_per_page=1))  # pages follow Link
    tags = list(client.list_tag_properties("listing", results_per_page=2))
    assert [(t.name, t.digest) for t in tags] == [("a", first), ("b", second), ("c", second)]
    newest = list(
        client.list_tag_properties("listing", order_by=ArtifactTagOrder.LAST_UPDATED_ON_DESCENDING)
    )
    assert newest[0].name == "c"
    manifests = {m.digest: m for m in client.list_manifest_properties("listing")}
    assert set(manifests) == {first, second}
    assert sorted(manifests[second].tags) == ["b", "c"]
    assert manifests[first].architecture == "amd64"
    assert manifests[first].operating_system == "linux"
    assert (manifests[first].size_in_bytes or 0) > 0


def test_properties_are_read_and_updated(client: ContainerRegistryClient) -> None:
    digest = _push(client, "props", "meta-4", "v1")
    repo = client.get_repository_properties("props")
    assert (repo.name, repo.manifest_count, repo.tag_count) == ("props", 1, 1)
    assert repo.can_delete and repo.can_write
    tag = client.get_tag_properties("props", "v1")
    assert tag.digest == digest and tag.created_on is not None
    updated = client.update_tag_properties("props", "v1", can_write=False, can_delete=False)
    assert (updated.can_write, updated.can_delete, updated.can_read) == (False, False, True)
    assert client.get_tag_properties("props", "v1").can_write is False
    manifest = client.update_manifest_properties("props", digest, can_list=False)
    assert manifest.can_list is False
    assert client.get_manifest_properties("props", "v1").can_list is False
    assert client.update_repository_properties("props", can_read=False).can_read is False


def test_delete_tag_removes_it(client: ContainerRegistryClient) -> None:
    digest = _push(client, "deleting", "meta-5", "gone")
    _push(client, "deleting", "meta-5", "stays")
    client.delete_tag("deleting", "gone")
    with pytest.raises(ResourceNotFoundError):
        client.get_tag_properties("deleting", "gone")
    assert [t.name for t in client.list_tag_properties("deleting")] == ["stays"]
    assert client.get_manifest_properties("deleting", digest).tags == ["stays"]


def test_delete_repository_removes_its_content(client: ContainerRegistryClient) -> None:
    _push(client, "doomed", "meta-6", "v1")
    client.delete_repository("doomed")
    assert "doomed" not in set(client.list_repository_names())
    with pytest.raises(ResourceNotFoundError):
        client.get_repository_properties("doomed")


def _raw(sandbox: SandboxHandle, registry: str, method: str, path: str, **kw: Any) -> Any:
    return requests.request(
        method, f"https://{registry}{path}", verify=sandbox.ca_bundle, timeout=30, **kw
    )


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/acr/v1/_catalog", 401),
        ("GET", "/acr/v1/NOT..valid/_tags", 400),
        ("GET", "/v2/hello/world/nothing/here", 404),
        ("GET", "/acr/v1/hello/world/_nothing", 400),  # "_nothing": not a repository name
        ("PUT", "/acr/v1/hello/world", 405),
    ],
)
def test_errors_use_the_registry_envelope(
    sandbox: SandboxHandle, registry: str, method: str, path: str, status: int
) -> None:
    response = _raw(sandbox, registry, method, path)
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()["errors"][0]
    assert error["code"] and error["message"]


def test_upload_location_is_relative(sandbox: SandboxHandle, registry: str) -> None:
    start = _raw(sandbox, registry, "POST", "/v2/hello/world/blobs/uploads/")
    assert start.status_code == 401  # no token: the challenge, then a token as the SDK does
    token = _token(sandbox, registry, "repository:hello/world:pull,push")
    start = _raw(
        sandbox,
        registry,
        "POST",
        "/v2/hello/world/blobs/uploads/",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert start.status_code == 202
    assert start.headers["Location"].startswith("/v2/hello/world/blobs/uploads/")


def _token(sandbox: SandboxHandle, registry: str, scope: str) -> str:
    """The ACR token exchange, as every Azure client does it (Entra → refresh → access)."""
    entra = sandbox.credential().get_token(f"{AUDIENCE}/.default").token
    refresh = _raw(
        sandbox,
        registry,
        "POST",
        "/oauth2/exchange",
        data={"grant_type": "access_token", "service": registry, "access_token": entra},
    ).json()["refresh_token"]
    access = _raw(
        sandbox,
        registry,
        "POST",
        "/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "service": registry,
            "scope": scope,
            "refresh_token": refresh,
        },
    ).json()["access_token"]
    return str(access)


def test_locks_refuse_changes_as_on_acr(client: ContainerRegistryClient) -> None:
    digest = _push(client, "locked", "meta-7", "v1")
    client.update_tag_properties("locked", "v1", can_write=False)
    for change in (
        lambda: client.delete_tag("locked", "v1"),
        lambda: _push(client, "locked", "meta-8", "v1"),
        lambda: client.delete_manifest("locked", digest),
    ):
        with pytest.raises(HttpResponseError) as refused:
            change()
        assert refused.value.status_code == 405
        assert "REGISTRY_DISALLOWED_OPERATION" in str(refused.value)
    client.update_tag_properties("locked", "v1", can_write=True, can_delete=False)
    assert _push(client, "locked", "meta-8", "v1")  # updates allowed again, deletes not
    with pytest.raises(HttpResponseError):
        client.delete_tag("locked", "v1")
    client.update_tag_properties("locked", "v1", can_delete=True)
    client.delete_tag("locked", "v1")
    assert [t.name for t in client.list_tag_properties("locked")] == []


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "BAD_REQUEST"),
        (b'{"writeEnabled": "no"}', 400, "BAD_REQUEST"),
        (b'{"color": true}', 400, "BAD_REQUEST"),
        (b'{"x": "' + b"a" * (2 * 1024 * 1024) + b'"}', 413, "SIZE_INVALID"),
    ],
)
def test_bad_patch_bodies_get_the_error_envelope(
    sandbox: SandboxHandle, registry: str, client: ContainerRegistryClient, body: bytes,
    status: int, code: str,
) -> None:  # fmt: skip
    _push(client, "patched", "meta-9", "v1")
    http = RegistryHttp(sandbox, registry)
    response = http.call(
        "PATCH",
        "/acr/v1/patched/_tags/v1",
        "repository:patched:metadata_write",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == status
    assert response.json()["errors"][0]["code"] == code
