"""Prune labels come from one batched Graph read (``getByIds``); when Graph refuses or
fails, the plan keeps every prune and labels it with the object id alone.

The server is a real HTTPS server and the client the real azure-core pipeline, so this is
the path a run takes; the planner's side is tests/unit/planner/cases/prune-names-*.yaml."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from acr_reconcile.azure.clients import RetryOptions
from acr_reconcile.azure.cloud import Cloud
from acr_reconcile.azure.graph import GraphClient
from acr_reconcile.live.graph import name_unknown
from tests.support.fake_https import FakeServer, Reply, Seen

KNOWN = "bbbbbbbb-0000-0000-0000-000000000002"
GONE = "dddddddd-0000-0000-0000-000000000004"
NO_RETRY = RetryOptions(total=0, timeout=10)


class _Credential:
    def get_token(self, *scopes: str, **_: Any) -> Any:
        return SimpleNamespace(token="graph-token", expires_on=2**40)


def _names(certs: tuple[Path, Path, Path], servers: list[FakeServer], reply: Reply) -> Any:
    seen: list[Seen] = []

    def handle(request: Seen) -> Reply:
        seen.append(request)
        return reply

    server = FakeServer(certs, handle)
    servers.append(server)
    url = server.url()
    cloud = Cloud("Test", url, "https://login.invalid", url, url, "azurecr.test")
    graph = GraphClient(cloud, _Credential(), str(certs[0]), NO_RETRY)
    try:
        return name_unknown(graph, [KNOWN.upper(), GONE]), seen
    finally:
        graph.close()


def _json(status: int, body: Any) -> Reply:
    return Reply(status, {"Content-Type": "application/json"}, json.dumps(body).encode())


def test_the_directory_names_the_principals_it_knows(
    certs: tuple[Path, Path, Path], servers: list[FakeServer]
) -> None:
    group = {"@odata.type": "#microsoft.graph.group", "id": KNOWN, "displayName": "Old CI"}
    (names, read), seen = _names(certs, servers, _json(200, {"value": [group]}))
    assert read is True
    assert {oid: (p.principal_type, p.display_name) for oid, p in names.items()} == {
        KNOWN: ("Group", "Old CI")
    }  # GONE is absent: not in the directory
    assert [s.path for s in seen] == ["/v1.0/directoryObjects/getByIds"]
    assert json.loads(seen[0].body)["ids"] == sorted([KNOWN, GONE])  # one batched read


@pytest.mark.parametrize(
    "reply",
    [
        _json(403, {"error": {"code": "Authorization_RequestDenied", "message": "no"}}),
        _json(503, {"error": {"code": "ServiceUnavailable", "message": "down"}}),
        Reply(200, {"Content-Type": "application/json"}, b"{not json"),
    ],
    ids=["refused", "down", "garbled"],
)
def test_a_failed_directory_read_leaves_the_ids_unnamed_and_says_so(
    reply: Reply, certs: tuple[Path, Path, Path], servers: list[FakeServer]
) -> None:
    (names, read), seen = _names(certs, servers, reply)
    assert names == {} and read is False  # the planner labels by object id (not "not found")
    assert len(seen) == 1
