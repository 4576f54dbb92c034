"""OCI 1.1 referrers on every loginServer: ``OCI-Subject`` on a manifest PUT with a
subject, ``GET /v2/<name>/referrers/<digest>`` (artifactType filter, Link paging),
consistent across deletes; no API on a registry with a customer-managed key (as on ACR),
where the referrers tag schema still works."""

from __future__ import annotations

import pytest
from azure.mgmt.containerregistry.models import (
    EncryptionProperty,
    KeyVaultProperties,
    Registry,
    Sku,
)

from acr_sandbox.dataplane.testimage import SCHEMA2
from acr_sandbox.testing import SandboxHandle
from tests.e2e.registry_http import OCI_INDEX, OCI_MANIFEST, RegistryHttp, digest_of

SBOM = "application/vnd.example.sbom.v1"
SIGNATURE = "application/vnd.cncf.notary.signature"
ZERO = "sha256:" + "0" * 64


def _registry(sandbox: SandboxHandle, name: str, cmk: bool = False) -> RegistryHttp:
    clients = sandbox.clients()
    clients.resources.resource_groups.create_or_update("rg", {"location": "westeurope"})
    body = Registry(location="westeurope", sku=Sku(name="Premium"))
    if cmk:
        body.encryption = EncryptionProperty(
            status="enabled",
            key_vault_properties=KeyVaultProperties(
                key_identifier="https://vault.example/keys/acr/0123", identity="00000000"
            ),
        )
    created = clients.registries.registries.begin_create("rg", name, body).result()
    return RegistryHttp(sandbox, str(created.login_server))


@pytest.fixture(scope="module")
def http(sandbox: SandboxHandle) -> RegistryHttp:
    sandbox.reset_state()
    return _registry(sandbox, "regrefs01")


def test_a_manifest_with_a_subject_is_listed_as_its_referrer(http: RegistryHttp) -> None:
    subject = http.push_image("app", "refs-1", "v1")
    notes = {"org.example.note": "first"}
    digest, put = http.push_referrer("app", subject, SBOM, b"sbom", notes)
    assert put.headers["OCI-Subject"] == subject[0]
    listed = http.referrers("app", subject[0])
    assert listed.status_code == 200
    assert listed.headers["Content-Type"].startswith(OCI_INDEX)
    index = listed.json()
    assert index["schemaVersion"] == 2 and index["mediaType"] == OCI_INDEX
    assert index["manifests"] == [
        {
            "mediaType": OCI_MANIFEST,
            "size": len(http.raw_manifest("app", digest)),
            "digest": digest,
            "artifactType": SBOM,
            "annotations": notes,
        }
    ]


def test_plain_pushes_get_no_subject_header(http: RegistryHttp) -> None:
    image = http.push_image("plain", "refs-2", "v1")
    body = http.raw_manifest("plain", image[0])
    put = http.push_manifest("plain", "again", body, SCHEMA2)
    assert "OCI-Subject" not in put.headers


def test_unknown_subject_gives_an_empty_list_and_the_ping_succeeds(http: RegistryHttp) -> None:
    http.push_image("empty", "refs-3", "v1")
    listed = http.referrers("empty", ZERO)  # oras' "is the API there" probe
    assert listed.status_code == 200
    assert listed.json()["manifests"] == []


def test_filter_by_artifact_type(http: RegistryHttp) -> None:
    subject = http.push_image("filter", "refs-4", "v1")
    sbom, _ = http.push_referrer("filter", subject, SBOM, b"sbom")
    http.push_referrer("filter", subject, SIGNATURE, b"sig")
    listed = http.referrers("filter", subject[0], artifactType=SBOM)
    assert listed.headers["OCI-Filters-Applied"] == "artifactType"
    assert [m["digest"] for m in listed.json()["manifests"]] == [sbom]
    assert "OCI-Filters-Applied" not in http.referrers("filter", subject[0]).headers


def test_pages_follow_the_link_header(http: RegistryHttp) -> None:
    subject = http.push_image("paged", "refs-5", "v1")
    made = {http.push_referrer("paged", subject, SBOM, f"sbom {i}".encode())[0] for i in range(5)}
    seen: list[str] = []
    response = http.referrers("paged", subject[0], n="2")
    pages = 1
    while "Link" in response.headers:
        seen += [m["digest"] for m in response.json()["manifests"]]
        link = response.headers["Link"]
        assert link.endswith('>; rel="next"')
        response = http.call("GET", link[1 : link.index(">")], "repository:paged:pull")
        pages += 1
    seen += [m["digest"] for m in response.json()["manifests"]]
    assert pages == 3
    assert sorted(seen) == sorted(made)


def test_a_deleted_referrer_leaves_the_list(http: RegistryHttp) -> None:
    subject = http.push_image("deleted", "refs-6", "v1")
    kept, _ = http.push_referrer("deleted", subject, SBOM, b"kept")
    gone, _ = http.push_referrer("deleted", subject, SBOM, b"gone")
    delete = http.call("DELETE", f"/v2/deleted/manifests/{gone}", "repository:deleted:delete")
    assert delete.status_code == 202
    assert [m["digest"] for m in http.referrers("deleted", subject[0]).json()["manifests"]] == [
        kept
    ]


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/v2/app/referrers/sha256:xyz", 400, "DIGEST_INVALID"),
        ("/v2/nosuchrepo/referrers/" + ZERO, 404, "NAME_UNKNOWN"),
        ("/v2/app/referrers/" + ZERO + "?n=0", 400, "PAGINATION_NUMBER_INVALID"),
    ],
)
def test_bad_requests_get_the_error_envelope(
    http: RegistryHttp, path: str, status: int, code: str
) -> None:
    repo = path.split("/")[2]
    response = http.call("GET", path, f"repository:{repo}:pull")
    assert response.status_code == status
    assert response.json()["errors"][0]["code"] == code


def test_listing_needs_pull_rights(http: RegistryHttp) -> None:
    response = http.raw("GET", f"/v2/app/referrers/{ZERO}")
    assert response.status_code == 401
    assert 'scope="repository:app:pull"' in response.headers["WWW-Authenticate"]


def test_a_registry_with_a_customer_managed_key_has_no_referrers_api(
    sandbox: SandboxHandle, http: RegistryHttp
) -> None:
    cmk = _registry(sandbox, "regrefscmk01", cmk=True)
    subject = cmk.push_image("app", "refs-7", "v1")
    digest, put = cmk.push_referrer("app", subject, SIGNATURE, b"sig")
    assert "OCI-Subject" not in put.headers  # so clients keep the tag schema themselves
    listed = cmk.referrers("app", subject[0])
    assert listed.status_code == 404
    assert listed.json()["errors"][0]["code"] != "NAME_UNKNOWN"  # oras: "unsupported"
    index = (
        b'{"schemaVersion":2,"mediaType":"'
        + OCI_INDEX.encode()
        + b'","manifests":[{"mediaType":"'
        + OCI_MANIFEST.encode()
        + b'","digest":"'
        + digest.encode()
        + b'","size":'
        + str(len(cmk.raw_manifest("app", digest))).encode()
        + b"}]}"
    )
    tag = "sha256-" + subject[0].removeprefix("sha256:")
    cmk.push_manifest("app", tag, index, OCI_INDEX)
    assert digest_of(cmk.raw_manifest("app", tag)) == digest_of(index)


def test_referrers_survive_a_sandbox_restart(tmp_path_factory: pytest.TempPathFactory) -> None:
    state = tmp_path_factory.mktemp("restart")
    first = SandboxHandle.start(state)
    try:
        http = _registry(first, "regrefsrestart01")
        subject = http.push_image("app", "refs-8", "v1")
        kept, _ = http.push_referrer("app", subject, SBOM, b"kept")
        gone, _ = http.push_referrer("app", subject, SBOM, b"gone")
        http.call("DELETE", f"/v2/app/manifests/{gone}", "repository:app:delete")
    finally:
        first.stop()
    second = SandboxHandle.start(state)
    try:
        again = RegistryHttp(second, http.login_server)
        listed = again.referrers("app", subject[0]).json()["manifests"]
        assert [m["digest"] for m in listed] == [kept]
        later, put = again.push_referrer("app", subject, SIGNATURE, b"after restart")
        assert put.headers["OCI-Subject"] == subject[0]
        listed = again.referrers("app", subject[0]).json()["manifests"]
        assert sorted(m["digest"] for m in listed) == sorted([kept, later])
    finally:
        second.stop()
