"""A long-running operation's polling URL is the service's word: one on another host is
refused before the credential is attached, so the token never leaves the endpoint it was
issued for. Real HTTPS servers and the real SDK client, as a run uses them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from acr_reconcile.azure.clients import AzureSession, RetryOptions
from acr_reconcile.azure.cloud import Cloud
from acr_reconcile.errors import TerminalAzureError
from tests.support.fake_https import FakeServer, Reply, Seen

TOKEN = "arm-bearer-token-for-the-pin-test"
SUB = "00000000-0000-0000-0000-000000000001"


class _Credential:
    def get_token(self, *scopes: str, **_: Any) -> Any:
        return SimpleNamespace(token=TOKEN, expires_on=2**40)


def _session(arm: FakeServer, ca: Path) -> AzureSession:
    url = arm.url()
    cloud = Cloud("Test", url, "https://login.invalid", url, url, "azurecr.test")
    return AzureSession(
        cloud, _Credential(), retry=RetryOptions(total=0, timeout=10), verify=str(ca)
    )


def _delete_group(session: AzureSession) -> None:
    try:
        session.resources(SUB).resource_groups.begin_delete("g").result()
    finally:
        session.close()


def _accepting_delete(seen: list[Seen], holder: dict[str, str]) -> Callable[[Seen], Reply]:
    """ARM accepting a DELETE with a polling URL (``holder["poll"]``), then answering done."""

    def handle(request: Seen) -> Reply:
        seen.append(request)
        if request.method == "DELETE":
            return Reply(202, {"Location": holder["poll"], "Retry-After": "0"})
        return Reply(200, {"Content-Type": "application/json"}, b"{}")

    return handle


def test_a_polling_url_on_another_host_is_refused_and_gets_no_token(
    certs: tuple[Path, Path, Path], servers: list[FakeServer]
) -> None:
    elsewhere_seen: list[Seen] = []
    elsewhere = FakeServer(certs, lambda seen: elsewhere_seen.append(seen) or Reply(200, {}, b"{}"))
    servers.append(elsewhere)
    poll = f"{elsewhere.url()}/operations/1?api-version=2022-09-01"
    arm = FakeServer(certs, lambda seen: Reply(202, {"Location": poll, "Retry-After": "0"}))
    servers.append(arm)

    with pytest.raises(TerminalAzureError, match="another host") as raised:
        _delete_group(_session(arm, certs[0]))

    assert elsewhere_seen == []
    assert TOKEN not in str(raised.value)


def test_the_same_server_under_another_name_is_another_host(
    certs: tuple[Path, Path, Path], servers: list[FakeServer]
) -> None:
    seen: list[Seen] = []
    holder: dict[str, str] = {}
    arm = FakeServer(certs, _accepting_delete(seen, holder))
    servers.append(arm)
    holder["poll"] = f"{arm.url('localhost')}/operations/1?api-version=2022-09-01"

    with pytest.raises(TerminalAzureError, match="another host"):
        _delete_group(_session(arm, certs[0]))

    assert [s.method for s in seen] == ["DELETE"]


def test_a_polling_url_on_the_endpoint_is_followed(
    certs: tuple[Path, Path, Path], servers: list[FakeServer]
) -> None:
    seen: list[Seen] = []
    holder: dict[str, str] = {}
    arm = FakeServer(certs, _accepting_delete(seen, holder))
    servers.append(arm)
    holder["poll"] = f"{arm.url()}/operations/1?api-version=2022-09-01"

    _delete_group(_session(arm, certs[0]))

    assert [s.method for s in seen] == ["DELETE", "GET"]
    assert seen[1].headers.get("Authorization") == f"Bearer {TOKEN}"
