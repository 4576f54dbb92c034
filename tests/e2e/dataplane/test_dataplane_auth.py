"""The token service's rules, proven with the real registry, notary-server and notary CLI."""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from acr_reconcile.errors import RegistryError
from acr_reconcile.registry.acr_auth import AcrTokenSource
from acr_reconcile.registry.client import RegistryClient
from acr_sandbox.dataplane.scopes import ACR_IMAGE_SIGNER, ACR_PULL, ACR_PUSH
from tests.e2e.dataplane.dataplane_harness import BearerCredential, DataPlaneHarness, run_notary
from tests.support.images import push_test_image

pytestmark = pytest.mark.e2e


def _claims(token: str) -> dict[str, Any]:
    body = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return claims


def test_push_and_pull_through_the_exchange_flow(dataplane: DataPlaneHarness) -> None:
    record, login_server = dataplane.create_registry("flowreg")
    pusher = dataplane.directory.add_principal("pusher", "secret-1")
    dataplane.directory.grant(pusher, record.id, ACR_PUSH)
    client = dataplane.client(login_server, pusher.object_id)

    digest = push_test_image(client, "hello-world", "v1", "flow")

    ref = client.manifest("hello-world", "v1")
    assert ref is not None and ref.digest == digest
    assert ref.media_type == "application/vnd.docker.distribution.manifest.v2+json"
    body, _ = client.manifest_body("hello-world", "v1")
    config_digest = json.loads(body)["config"]["digest"]
    assert json.loads(client.blob("hello-world", config_digest))["config"]["Labels"] == {
        "seed": "flow"
    }
    assert client.tags("hello-world") == ["v1"]
    assert client.manifest("hello-world", "missing") is None


def test_roles_decide_and_follow_changes(dataplane: DataPlaneHarness) -> None:
    record, login_server = dataplane.create_registry("rolesreg")
    owner = dataplane.directory.add_principal("owner", "secret-o")
    dataplane.directory.grant(owner, record.id, ACR_PUSH)
    push_test_image(dataplane.client(login_server, owner.object_id), "app", "v1", "roles")
    reader = dataplane.directory.add_principal("reader", "secret-r")

    with pytest.raises(RegistryError, match="401"):
        dataplane.client(login_server, reader.object_id).manifest("app", "v1")

    dataplane.directory.grant(reader, record.id, ACR_PULL)
    reading = dataplane.client(login_server, reader.object_id)
    assert reading.manifest("app", "v1") is not None
    with pytest.raises(RegistryError, match="401"):
        push_test_image(reading, "app", "v2", "not allowed")

    dataplane.directory.revoke(reader, record.id, ACR_PULL)
    with pytest.raises(RegistryError, match="401"):
        dataplane.client(login_server, reader.object_id).manifest("app", "v1")


def test_token_endpoint_contract(dataplane: DataPlaneHarness) -> None:
    record, login_server = dataplane.create_registry("tokenreg")
    sp = dataplane.directory.add_principal("sp", "secret-t")
    dataplane.directory.grant(sp, record.id, ACR_PUSH)
    url = f"https://{login_server}/oauth2/token"
    verify = str(dataplane.ca_cert)

    anonymous = requests.get(
        url,
        params={"service": login_server, "scope": "repository:a:pull"},
        verify=verify,
        timeout=30,
    )
    assert anonymous.status_code == 200
    assert _claims(anonymous.json()["token"])["access"] == []

    scopes = [f"repository:{login_server}/a:push,pull repository:b:pull", "registry:catalog:*"]
    basic = requests.get(
        url,
        params={"service": login_server, "scope": scopes},
        auth=(sp.app_id or "", "secret-t"),
        verify=verify,
        timeout=30,
    )
    assert basic.status_code == 200
    body = basic.json()
    assert body["token"] == body["access_token"] and body["expires_in"] > 60
    assert body["issued_at"].endswith("Z")
    access = {(a["name"], tuple(a["actions"])) for a in _claims(body["token"])["access"]}
    assert access == {
        ("a", ("pull", "push")),
        (f"{login_server}/a", ("pull",)),  # push on trust data needs AcrImageSigner
        ("b", ("pull",)),
        (f"{login_server}/b", ("pull",)),
        ("catalog", ("*",)),
    }
    assert _claims(body["token"])["aud"] == login_server

    no_scope = requests.get(
        url,
        params={"service": login_server},
        auth=(sp.app_id or "", "secret-t"),
        verify=verify,
        timeout=30,
    )
    assert no_scope.status_code == 200 and _claims(no_scope.json()["token"])["access"] == []

    wrong = requests.get(
        url,
        params={"service": login_server},
        auth=(sp.app_id or "", "nope"),
        verify=verify,
        timeout=30,
    )
    assert wrong.status_code == 401
    assert wrong.json()["errors"][0]["code"] == "UNAUTHORIZED"
    assert "nope" not in wrong.text

    exchange = requests.post(
        f"https://{login_server}/oauth2/exchange",
        verify=verify,
        timeout=30,
        data={"grant_type": "access_token", "service": login_server, "access_token": "not a token"},
    )
    assert exchange.status_code == 401


def test_notary_cli_publishes_only_with_image_signer(
    dataplane: DataPlaneHarness, tmp_path: Path
) -> None:
    record, login_server = dataplane.create_registry("trustreg")
    signer = dataplane.directory.add_principal("signer", "secret-s")
    dataplane.directory.grant(signer, record.id, ACR_PUSH, ACR_IMAGE_SIGNER)
    pusher = dataplane.directory.add_principal("pusher-only", "secret-p")
    dataplane.directory.grant(pusher, record.id, ACR_PUSH)
    digest = push_test_image(
        dataplane.client(login_server, signer.object_id), "hello", "signed", "n"
    )
    size = str(dataplane.client(login_server, signer.object_id).manifest("hello", "signed").size)  # type: ignore[union-attr]
    gun = f"{login_server}/hello"
    as_signer = f"{signer.app_id}:secret-s"

    init = run_notary(login_server, dataplane.ca_cert, tmp_path / "s", as_signer, "init", gun, "-p")
    assert init.returncode == 0, init.stderr
    add = run_notary(
        login_server,
        dataplane.ca_cert,
        tmp_path / "s",
        as_signer,
        "addhash",
        gun,
        "signed",
        size,
        "--sha256",
        digest.removeprefix("sha256:"),
        "-p",
    )
    assert add.returncode == 0, add.stderr

    listed = run_notary(
        login_server, dataplane.ca_cert, tmp_path / "p", f"{pusher.app_id}:secret-p", "list", gun
    )
    assert listed.returncode == 0, listed.stderr
    assert "signed" in listed.stdout and digest.removeprefix("sha256:") in listed.stdout

    refused = run_notary(
        login_server,
        dataplane.ca_cert,
        tmp_path / "p",
        f"{pusher.app_id}:secret-p",
        "init",
        f"{login_server}/other",
        "-p",
    )
    assert refused.returncode != 0
    assert "not authorized" in refused.stdout + refused.stderr

    dataplane.directory.grant(pusher, record.id, ACR_IMAGE_SIGNER)
    allowed = run_notary(
        login_server,
        dataplane.ca_cert,
        tmp_path / "p",
        f"{pusher.app_id}:secret-p",
        "init",
        f"{login_server}/other",
        "-p",
    )
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr

    rotate = run_notary(
        login_server,
        dataplane.ca_cert,
        tmp_path / "s",
        as_signer,
        "key",
        "rotate",
        gun,
        "snapshot",
        "-r",
    )
    assert rotate.returncode == 0, rotate.stderr

    bad = run_notary(
        login_server, dataplane.ca_cert, tmp_path / "b", f"{signer.app_id}:wrong", "list", gun
    )
    assert bad.returncode != 0 and "wrong" not in bad.stderr + bad.stdout

    plain = dataplane.directory.add_principal("plain-pusher", "secret-q")
    dataplane.directory.grant(plain, record.id, ACR_PUSH)
    as_pusher = f"{plain.app_id}:secret-q"
    kept = run_notary(
        login_server, dataplane.ca_cert, tmp_path / "p", as_pusher, "delete", gun, "--remote"
    )
    assert kept.returncode != 0 and "not authorized" in kept.stdout + kept.stderr  # needs `*`
    deleted = run_notary(
        login_server, dataplane.ca_cert, tmp_path / "s", as_signer, "delete", gun, "--remote"
    )
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    gone = run_notary(login_server, dataplane.ca_cert, tmp_path / "g", as_pusher, "list", gun)
    assert gone.returncode != 0 and "does not have trust data" in gone.stdout + gone.stderr


class CountingSession(requests.Session):
    """A real session that counts the token-service calls it makes."""

    def __init__(self) -> None:
        super().__init__()
        self.posts: list[str] = []

    def post(self, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        self.posts.append(str(url).rsplit("/", 1)[-1])
        return super().post(url, *args, **kwargs)


def test_tokens_are_cached_and_fetched_once_under_concurrency(dataplane: DataPlaneHarness) -> None:
    record, login_server = dataplane.create_registry("cachereg")
    sp = dataplane.directory.add_principal("cache", "secret-c")
    dataplane.directory.grant(sp, record.id, ACR_PUSH)
    dataplane.directory.bearers["entra-cache"] = sp.object_id
    session = CountingSession()
    source = AcrTokenSource(
        BearerCredential("entra-cache"), verify=str(dataplane.ca_cert), session=session
    )
    dataplane.track(session)
    client = dataplane.track(RegistryClient(login_server, source, verify=str(dataplane.ca_cert)))
    push_test_image(client, "app", "v1", "cache")
    pushes = list(session.posts)
    assert pushes.count("exchange") == 1

    readers = [
        RegistryClient(login_server, source, verify=str(dataplane.ca_cert)) for _ in range(8)
    ]
    with ThreadPoolExecutor(8) as pool:
        refs = list(pool.map(lambda c: c.manifest("app", "v1"), readers * 3))
    assert all(r is not None for r in refs)
    for reader in readers:
        reader.close()
    fetched = session.posts[len(pushes) :]
    assert fetched == []  # the push already fetched the pull-scope token: every reader reuses it


def test_a_refused_exchange_is_a_registry_error_without_the_token(
    dataplane: DataPlaneHarness,
) -> None:
    _, login_server = dataplane.create_registry("refusedreg")
    entra = "an-entra-token-the-directory-does-not-know"
    source = dataplane.track(AcrTokenSource(BearerCredential(entra), verify=str(dataplane.ca_cert)))
    with (
        RegistryClient(login_server, source, verify=str(dataplane.ca_cert)) as client,
        pytest.raises(RegistryError) as refused,
    ):
        client.manifest("app", "v1")
    message = str(refused.value)
    assert f"https://{login_server}/oauth2/exchange" in message and "HTTP 401" in message
    assert entra not in message
