"""Microsoft Graph as az and the SDKs query it: the filters az sends, getByIds, and
Graph's JSON error envelope for every bad request (never a bare-text 404/405)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from acr_sandbox.testing import SandboxHandle


@pytest.fixture(scope="module")
def graph(sandbox: SandboxHandle) -> Any:
    token = sandbox.credential().get_token(f"{sandbox.arm_url}//.default").token

    def call(method: str, path: str, **kw: Any) -> requests.Response:
        return requests.request(
            method,
            f"{sandbox.arm_url}/v1.0{path}",
            headers={"Authorization": f"Bearer {token}"},
            verify=sandbox.ca_bundle,
            timeout=10,
            **kw,
        )

    return call


@pytest.fixture(scope="module")
def principal(sandbox: SandboxHandle) -> tuple[str, str]:
    app_id, object_id, _ = sandbox.add_principal("GraphProbe")
    return app_id, object_id


def test_service_principal_names_any_finds_by_app_id(
    graph: Any, principal: tuple[str, str]
) -> None:
    app_id, object_id = principal
    found = graph(
        "GET",
        "/servicePrincipals",
        params={"$filter": f"servicePrincipalNames/any(c:c eq '{app_id}')"},
    ).json()
    assert [(p["id"], p["servicePrincipalNames"]) for p in found["value"]] == [
        (object_id, [app_id])
    ]
    none = graph(
        "GET",
        "/servicePrincipals",
        params={"$filter": "servicePrincipalNames/any(c:c eq 'nobody')"},
    ).json()
    assert none["value"] == []


def test_user_principal_name_filter(sandbox: SandboxHandle, graph: Any) -> None:
    _, object_id, _ = sandbox.add_principal("Grace Hopper", principal_type="User")
    users = graph(
        "GET", "/users", params={"$filter": "userPrincipalName eq 'grace.hopper@sandbox.invalid'"}
    )
    assert [u["id"] for u in users.json()["value"]] == [object_id]


def test_get_by_ids_answers_known_objects_with_their_type(
    graph: Any, principal: tuple[str, str]
) -> None:
    _, object_id = principal
    body = {
        "ids": [object_id, "00000000-0000-0000-0000-00000000dead"],
        "types": ["user", "servicePrincipal"],
    }
    answer = graph("POST", "/directoryObjects/getByIds", json=body)
    assert answer.status_code == 200
    assert answer.json()["@odata.context"].endswith("/v1.0/$metadata#directoryObjects")
    assert [(o["id"], o["@odata.type"]) for o in answer.json()["value"]] == [
        (object_id, "#microsoft.graph.servicePrincipal")
    ]
    only_users = graph(
        "POST", "/directoryObjects/getByIds", json={"ids": [object_id], "types": ["user"]}
    )
    assert only_users.json()["value"] == []


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        ("POST", "/directoryObjects/getByIds", {"data": b"not json"}, 400, "Request_BadRequest"),
        ("POST", "/directoryObjects/getByIds", {"json": {"ids": "x"}}, 400, "Request_BadRequest"),
        (
            "POST",
            "/directoryObjects/getByIds",
            {"json": {"ids": ["a"] * 1001}},
            400,
            "Request_BadRequest",
        ),
        (
            "GET",
            "/servicePrincipals",
            {"params": {"$filter": "tags/any(t:t eq 'x')"}},
            400,
            "Request_UnsupportedQuery",
        ),
        ("GET", "/users", {"params": {"$filter": "appId eq 'x'"}}, 400, "Request_UnsupportedQuery"),
        ("DELETE", "/servicePrincipals", {}, 405, "Request_BadRequest"),
        ("POST", "/servicePrincipals/abc/whatever", {}, 405, "Request_BadRequest"),
        ("GET", "/applications", {}, 400, "BadRequest"),
        (
            "GET",
            "/directoryObjects/00000000-0000-0000-0000-00000000dead",
            {},
            404,
            "Request_ResourceNotFound",
        ),
    ],
)
def test_bad_requests_get_graphs_json_error(
    graph: Any, method: str, path: str, kwargs: dict[str, Any], status: int, code: str
) -> None:
    answer = graph(method, path, **kwargs)
    assert answer.status_code == status
    assert answer.headers["Content-Type"].startswith("application/json")
    error = answer.json()["error"]
    assert error["code"] == code and error["message"]
    assert "innerError" in error
