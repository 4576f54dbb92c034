"""The token service's refusals and grant shapes, in process (no backends needed)."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from acr_sandbox.dataplane import pki
from acr_sandbox.dataplane.scopes import ACR_PULL
from acr_sandbox.dataplane.service import REFRESH_USER, TokenService
from acr_sandbox.dataplane.tokens import TokenSigner
from tests.e2e.dataplane.dataplane_harness import FakeDirectory, registry_record

LS = "127.0.0.1:5000"
Scenario = Callable[[TestClient[Any, Any], FakeDirectory, TokenSigner], Awaitable[None]]


def _access(token: str) -> list[dict[str, Any]]:
    body = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    access: list[dict[str, Any]] = claims["access"]
    return access


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def _run(tmp_path: Path, scenario: Scenario) -> None:
    ca_cert, ca_key = pki.create_ca(tmp_path)
    pair = pki.issue(
        tmp_path,
        "signing",
        ca_cert=str(ca_cert),
        ca_key_path=str(ca_key),
        common_name="t",
        server=False,
    )
    signer = TokenSigner(pair.cert_path, pair.key_path)
    directory = FakeDirectory()
    record = registry_record("svc")
    app = web.Application()
    app.add_routes(TokenService(directory, signer, record, LS).routes())

    async def main() -> None:
        async with TestClient(TestServer(app)) as client:
            await scenario(client, directory, signer)

    asyncio.run(main())


def test_exchange_then_refresh_grant(tmp_path: Path) -> None:
    async def scenario(client: TestClient[Any, Any], d: FakeDirectory, s: TokenSigner) -> None:
        sp = d.add_principal("sp", "pw")
        d.bearers["entra"] = sp.object_id
        d.grant(sp, registry_record("svc").id, ACR_PULL)
        form = {"grant_type": "access_token", "service": LS, "access_token": "entra"}
        wrong_tenant = await client.post("/oauth2/exchange", data={**form, "tenant": "other"})
        assert wrong_tenant.status == 401
        exchanged = await client.post("/oauth2/exchange", data={**form, "tenant": sp.tenant_id})
        assert exchanged.status == 200
        refresh = (await exchanged.json())["refresh_token"]

        granted = await client.post(
            "/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "service": LS,
                "refresh_token": refresh,
                "scope": "repository:app:pull,push",
            },
        )
        assert granted.status == 200
        body = await granted.json()
        assert set(body) == {"access_token"}
        assert {a["name"]: a["actions"] for a in _access(body["access_token"])} == {
            "app": ["pull"],
            f"{LS}/app": ["pull"],
        }

        as_user = await client.get(
            "/oauth2/token",
            params={"scope": "repository:app:pull"},
            headers=_basic(REFRESH_USER, refresh),
        )
        assert as_user.status == 200 and _access((await as_user.json())["token"])

        other = s.refresh_token(subject=sp.object_id, tenant=sp.tenant_id, audience="127.0.0.1:1")
        foreign = await client.get("/oauth2/token", headers=_basic(REFRESH_USER, other))
        assert foreign.status == 401

    _run(tmp_path, scenario)


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("GET", {"headers": {"Authorization": "Bearer something"}}),
        ("GET", {"headers": {"Authorization": "Basic !!!not-base64"}}),
        ("GET", {"headers": _basic("unknown-app", "pw")}),
        ("POST", {"data": {"grant_type": "password", "username": "u", "password": "p"}}),
        ("POST", {"data": {"grant_type": "refresh_token", "refresh_token": "forged"}}),
    ],
)
def test_bad_credentials_are_refused_without_echoing_them(
    tmp_path: Path, method: str, kwargs: dict[str, Any]
) -> None:
    async def scenario(client: TestClient[Any, Any], d: FakeDirectory, s: TokenSigner) -> None:
        response = await client.request(method, "/oauth2/token", **kwargs)
        assert response.status in (400, 401)
        text = await response.text()
        assert json.loads(text)["errors"][0]["code"] in ("UNAUTHORIZED", "UNSUPPORTED")
        assert "forged" not in text and "not-base64" not in text

    _run(tmp_path, scenario)
