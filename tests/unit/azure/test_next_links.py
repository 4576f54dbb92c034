"""ARM and Graph next-page links are followed only on the endpoint's own host, never twice,
and not beyond a page cap; each refusal is one clear error and sends nothing further.

The servers are real HTTPS servers and the clients the real SDK clients (ARM) and the
real azure-core pipeline (Graph), so this is the path a run takes."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from acr_reconcile.azure import paging
from acr_reconcile.azure.clients import AzureSession, RetryOptions
from acr_reconcile.azure.cloud import Cloud
from acr_reconcile.azure.graph import GraphClient
from acr_reconcile.errors import TerminalAzureError
from acr_reconcile.live.arm import list_registries
from tests.support.fake_https import FakeServer, Reply, Seen

TOKEN = "arm-or-graph-bearer-token"
SUB = "00000000-0000-0000-0000-000000000001"
NO_RETRY = RetryOptions(total=0, timeout=10)


class _Credential:
    def get_token(self, *scopes: str, **_: Any) -> Any:
        return SimpleNamespace(token=TOKEN, expires_on=2**40)


def _cloud(url: str) -> Cloud:
    return Cloud("Test", url, "https://login.invalid", url, url, "azurecr.test")


def _registry(n: int) -> dict[str, Any]:
    rid = f"/subscriptions/{SUB}/resourceGroups/g/providers/Microsoft.ContainerRegistry"
    rid += f"/registries/r{n}"
    return {"id": rid, "name": f"r{n}", "location": "westeurope", "sku": {"name": "Premium"}}


def _pages(
    next_link: Callable[[int], str | None], key: str = "nextLink"
) -> Callable[[Seen], Reply]:
    counter = itertools.count()

    def handle(seen: Seen) -> Reply:
        n = next(counter)
        body: dict[str, Any] = {"value": [_registry(n)]}
        link = next_link(n)
        if link:
            body[key] = link
        return Reply(200, {"Content-Type": "application/json"}, json.dumps(body).encode())

    return handle


def _list_on(server: FakeServer, ca: Path) -> None:
    session = AzureSession(_cloud(server.url()), _Credential(), retry=NO_RETRY, verify=str(ca))
    try:
        list_registries(session, SUB)
    finally:
        session.close()


def _list_path(server: FakeServer) -> str:
    return f"{server.url()}/subscriptions/{SUB}/providers/Microsoft.ContainerRegistry/registries"


def test_an_arm_next_link_loop_ends_at_the_repeat(
    certs: tuple[Path, Path, Path], servers: list[FakeServer]
) -> None:
    links: dict[str, str] = {}
    server = FakeServer(certs, _pages(lambda n: links["loop"]))
    servers.append(server)
    links["loop"] = _list_path(server) + "?api-version=2023-07-01&page=2"
    with pytest.raises(TerminalAzureError, match="a second time after 2 page"):
        _list_on(server, certs[0])
    assert len(server.seen) == 2


def test_an_arm_list_stops_at_the_page_cap(
    certs: tuple[Path, Path, Path], servers: list[FakeServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(paging, "MAX_PAGES", 7)
    holder: dict[str, FakeServer] = {}
    server = FakeServer(certs, _pages(lambda n: f"{_list_path(holder['s'])}?page={n + 2}"))
    holder["s"] = server
    servers.append(server)
    with pytest.raises(TerminalAzureError, match="beyond 7 pages"):
        _list_on(server, certs[0])
    assert len(server.seen) == 7


@pytest.mark.parametrize("host", ["localhost", "plain"])
def test_a_foreign_arm_next_link_receives_nothing(
    certs: tuple[Path, Path, Path], servers: list[FakeServer], host: str
) -> None:
    foreign = FakeServer(certs, _pages(lambda n: None), tls=host != "plain")
    base = foreign.url("localhost" if host == "localhost" else "127.0.0.1")
    server = FakeServer(certs, _pages(lambda n: f"{base}/subscriptions/{SUB}/x?page=2"))
    servers += [foreign, server]
    with pytest.raises(TerminalAzureError, match=r"is not on https://127\.0\.0\.1"):
        _list_on(server, certs[0])
    assert foreign.seen == []
    assert len(server.seen) == 1


def _search_on(server: FakeServer, ca: Path) -> None:
    graph = GraphClient(_cloud(server.url()), _Credential(), str(ca), NO_RETRY)
    try:
        graph.search("displayName", "ci", "ServicePrincipal")
    finally:
        graph.close()


def test_a_graph_next_link_loop_ends_at_the_repeat(
    certs: tuple[Path, Path, Path], servers: list[FakeServer]
) -> None:
    links: dict[str, str] = {}
    server = FakeServer(certs, _pages(lambda n: links["loop"], "@odata.nextLink"))
    servers.append(server)
    links["loop"] = f"{server.url()}/v1.0/servicePrincipals?$skiptoken=abc"
    with pytest.raises(TerminalAzureError, match="a second time"):
        _search_on(server, certs[0])
    assert len(server.seen) == 2


def test_a_foreign_graph_next_link_receives_no_token(
    certs: tuple[Path, Path, Path], servers: list[FakeServer]
) -> None:
    foreign = FakeServer(certs, _pages(lambda n: None, "@odata.nextLink"))
    link = f"{foreign.url('localhost')}/v1.0/servicePrincipals?$skiptoken=abc"
    server = FakeServer(certs, _pages(lambda n: link, "@odata.nextLink"))
    servers += [foreign, server]
    with pytest.raises(TerminalAzureError, match=r"not on https://127\.0\.0\.1"):
        _search_on(server, certs[0])
    assert foreign.seen == []
    assert server.seen[0].carries(TOKEN)  # the token went to the endpoint, and only there
