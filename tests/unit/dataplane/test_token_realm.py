"""The Entra ARM token goes to ``https://<loginServer>/oauth2/exchange`` and nowhere else,
whatever realm a registry's or trust server's 401 challenge names (another host, another
port, plain http) and wherever a token service redirects."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from acr_reconcile.errors import RegistryError
from acr_reconcile.live.images import DataPlane
from acr_reconcile.registry.acr_auth import AcrTokenSource
from acr_reconcile.registry.client import RegistryClient
from tests.support.fake_https import FakeServer, Reply, Seen

ENTRA = "entra-arm-token-must-stay-home"


class _Credential:
    def __init__(self) -> None:
        self.asked = 0

    def get_token(self, *scopes: str, **_: Any) -> Any:
        self.asked += 1
        return SimpleNamespace(token=ENTRA, expires_on=2**40)


def _collector(seen: Seen) -> Reply:
    body = json.dumps({"refresh_token": "r", "access_token": "a", "token": "a"}).encode()
    return Reply(200, {"Content-Type": "application/json"}, body)


def _challenge_handler(realm_of: dict[str, str]) -> Any:
    def handle(seen: Seen) -> Reply:
        header = f'Bearer realm="{realm_of["realm"]}",service="{realm_of["service"]}"'
        header += ',scope="repository:hello:pull"'
        return Reply(401, {"WWW-Authenticate": header})

    return handle


def _foreign_realms(foreign: FakeServer, plain: FakeServer, login: FakeServer) -> list[str]:
    return [
        f"{foreign.url('localhost')}/oauth2/token",  # another host
        f"{foreign.url()}/oauth2/token",  # the login server's host, another port
        f"{plain.url()}/oauth2/token",  # plain http
        f"http://127.0.0.1:{login.port}/oauth2/token",  # the login server itself, over http
        f"https://user@127.0.0.1:{login.port}/oauth2/token",  # credentials in the URL
    ]


@pytest.mark.parametrize("which", range(5))
def test_a_registry_challenge_naming_a_foreign_realm_gets_no_token(
    certs: tuple[Path, Path, Path], servers: list[FakeServer], which: int
) -> None:
    foreign = FakeServer(certs, _collector)
    plain = FakeServer(certs, _collector, tls=False)
    realm: dict[str, str] = {}
    login = FakeServer(certs, _challenge_handler(realm))
    servers += [foreign, plain, login]
    login_server = f"127.0.0.1:{login.port}"
    realm.update(realm=_foreign_realms(foreign, plain, login)[which], service=login_server)
    credential = _Credential()
    source = AcrTokenSource(credential, verify=str(certs[0]))
    with (
        RegistryClient(login_server, source, verify=str(certs[0])) as client,
        pytest.raises(RegistryError, match=r"not on https://127\.0\.0\.1:\d+; no credential"),
    ):
        client.manifest("hello", "v1")
    source.close()
    assert foreign.seen == [] and plain.seen == []
    assert not any(s.path.startswith("/oauth2/") for s in login.seen)
    assert credential.asked == 0


def test_a_trust_server_elsewhere_cannot_draw_the_token_to_its_realm(
    certs: tuple[Path, Path, Path], servers: list[FakeServer], tmp_path: Path
) -> None:
    """``DOCKER_CONTENT_TRUST_SERVER`` may name another server; its challenge still may not
    send the login server's credentials anywhere but the login server."""
    realm: dict[str, str] = {}
    trust = FakeServer(certs, _challenge_handler(realm))
    servers.append(trust)
    realm.update(realm=f"{trust.url()}/oauth2/token", service="notary")
    credential = _Credential()
    env = {"DOCKER_CONTENT_TRUST_SERVER": trust.url(), "DOCKER_CONFIG": str(tmp_path)}
    plane = DataPlane(credential, str(certs[0]), env)
    try:
        with pytest.raises(RegistryError, match="no credential was sent there"):
            plane.trust("127.0.0.1:1").http.get_meta("127.0.0.1:1/hello", "root")
    finally:
        plane.close()
    assert [s.path for s in trust.seen if s.path.startswith("/oauth2/")] == []
    assert credential.asked == 0


def test_the_exchange_happens_on_the_login_server_and_redirects_are_not_followed(
    certs: tuple[Path, Path, Path], servers: list[FakeServer]
) -> None:
    foreign = FakeServer(certs, _collector)
    servers.append(foreign)

    def login_handler(seen: Seen) -> Reply:
        if seen.path == "/oauth2/exchange":
            return Reply(307, {"Location": f"{foreign.url('localhost')}/oauth2/exchange"})
        header = f'Bearer realm="https://127.0.0.1:{login.port}/oauth2/token",service="x"'
        return Reply(401, {"WWW-Authenticate": header})

    login = FakeServer(certs, login_handler)
    servers.append(login)
    source = AcrTokenSource(_Credential(), verify=str(certs[0]))
    with (
        RegistryClient(f"127.0.0.1:{login.port}", source, verify=str(certs[0])) as client,
        pytest.raises(RegistryError, match=r"refused \(HTTP 307"),
    ):
        client.manifest("hello", "v1")
    source.close()
    exchanges = [s for s in login.seen if s.path == "/oauth2/exchange"]
    assert len(exchanges) == 1 and exchanges[0].carries(ENTRA)
    assert foreign.seen == []


def test_a_realm_on_the_login_server_gets_its_token(
    certs: tuple[Path, Path, Path], servers: list[FakeServer]
) -> None:
    def login_handler(seen: Seen) -> Reply:
        if seen.path.startswith("/oauth2/"):
            return _collector(seen)
        if seen.headers.get("Authorization") == "Bearer a":
            digest = "sha256:" + "0" * 64
            return Reply(200, {"Docker-Content-Digest": digest, "Content-Type": "x"}, b"{}")
        header = f'Bearer realm="https://127.0.0.1:{login.port}/oauth2/token",service="x"'
        return Reply(401, {"WWW-Authenticate": header})

    login = FakeServer(certs, login_handler)
    servers.append(login)
    source = AcrTokenSource(_Credential(), verify=str(certs[0]))
    with RegistryClient(f"127.0.0.1:{login.port}", source, verify=str(certs[0])) as client:
        found = client.manifest("hello", "v1")
    source.close()
    assert found is not None and found.size == 2
    assert [s.path for s in login.seen if s.path.startswith("/oauth2/")] == [
        "/oauth2/exchange",
        "/oauth2/token",
    ]
