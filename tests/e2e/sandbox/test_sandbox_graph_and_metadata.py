"""Cloud metadata read the way the tool reads it, and Graph lookups through the tool's own
Graph client (real azure-core pipeline, real credential)."""

from __future__ import annotations

import requests

from acr_reconcile.azure.cloud import load_cloud
from acr_reconcile.azure.graph import GraphClient
from acr_reconcile.live.platform import platform_rules
from acr_sandbox.testing import SandboxHandle


def test_metadata_document_points_every_endpoint_at_the_sandbox(sandbox: SandboxHandle) -> None:
    url = f"https://{sandbox.metadata_host}/metadata/endpoints?api-version=2022-09-01"
    document = requests.get(url, verify=sandbox.ca_bundle, timeout=10).json()
    assert document["resourceManager"] == f"{sandbox.arm_url}/"
    assert document["authentication"]["loginEndpoint"] == f"{sandbox.arm_url}/"
    assert "https://management.azure.com/" in document["authentication"]["audiences"]
    assert document["suffixes"]["acrLoginServer"]
    old = requests.get(
        url.replace("2022-09-01", "2019-05-01"), verify=sandbox.ca_bundle, timeout=10
    )
    assert isinstance(old.json(), list)  # older api-versions answer a list of clouds
    cloud = load_cloud(sandbox.env())
    assert cloud.resource_manager == sandbox.arm_url
    assert cloud.authority_host == sandbox.arm_url
    assert not cloud.is_public
    assert platform_rules(cloud).new_trust_enablement_allowed is True  # fixture: legacy


def test_graph_finds_principals_by_id_app_id_and_display_name(sandbox: SandboxHandle) -> None:
    cloud = load_cloud(sandbox.env())
    app_id, object_id, _ = sandbox.add_principal("graph-o'brien")
    _, user_id, _ = sandbox.add_principal("Graph User", principal_type="User")
    graph = GraphClient(cloud, sandbox.credential(), sandbox.ca_bundle)
    try:
        found = graph.by_object_id(object_id, "ServicePrincipal")
        assert found is not None and (found.app_id, found.display_name) == (app_id, "graph-o'brien")
        assert [p.object_id for p in graph.search("appId", app_id.upper(), "ServicePrincipal")] == [
            object_id
        ]
        by_name = graph.search("displayName", "graph-o'brien", "ServicePrincipal")
        assert [p.object_id for p in by_name] == [object_id]
        assert graph.by_object_id(object_id, "User") is None  # wrong collection
        user = graph.by_object_id(user_id, "User")
        assert user is not None and user.display_name == "Graph User"
        signer = graph.search("displayName", "DavidServiceAccount", "ServicePrincipal")
        assert [p.app_id for p in signer] == ["11111111-1111-1111-1111-111111111111"]
    finally:
        graph.close()


def test_graph_answers_graph_shaped_errors(sandbox: SandboxHandle) -> None:
    token = sandbox.credential().get_token(f"{sandbox.arm_url}/.default").token
    headers = {"Authorization": f"Bearer {token}"}
    missing = requests.get(
        f"{sandbox.arm_url}/v1.0/servicePrincipals/00000000-0000-0000-0000-00000000abcd",
        headers=headers,
        verify=sandbox.ca_bundle,
        timeout=10,
    )
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "Request_ResourceNotFound"
    alternate = requests.get(
        f"{sandbox.arm_url}/v1.0/servicePrincipals(appId='11111111-1111-1111-1111-111111111111')",
        headers=headers,
        verify=sandbox.ca_bundle,
        timeout=10,
    )
    assert alternate.json()["displayName"] == "DavidServiceAccount"


def test_graph_refuses_missing_and_arm_tokens_as_graph_does(sandbox: SandboxHandle) -> None:
    url = f"{sandbox.arm_url}/v1.0/servicePrincipals"
    arm_token = sandbox.credential().get_token("https://management.azure.com/.default").token
    answers = [
        requests.get(url, headers=headers, verify=sandbox.ca_bundle, timeout=10)
        for headers in ({}, {"Authorization": f"Bearer {arm_token}"})
    ]
    assert [a.status_code for a in answers] == [401, 401]
    assert [a.json()["error"]["message"] for a in answers] == [
        "Access token is empty.",
        "Access token validation failure.",
    ]
    assert all(a.json()["error"]["code"] == "InvalidAuthenticationToken" for a in answers)
