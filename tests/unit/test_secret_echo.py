"""Text a server echoes is redacted of the run's tokens, secrets and passphrases and cut
to a bounded length before it reaches an error line: a token service, registry, trust
server or ARM that echoes its request must not print our credentials."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from acr_reconcile.azure.clients import AzureSession, RetryOptions
from acr_reconcile.azure.cloud import Cloud
from acr_reconcile.errors import AcrReconcileError, RegistryError, TrustServerError
from acr_reconcile.live.arm import list_registries
from acr_reconcile.redact import MAX_ECHO, echo, redact, remember
from acr_reconcile.registry.acr_auth import AcrTokenSource
from acr_reconcile.registry.client import RegistryClient
from acr_reconcile.trust.keys import Passphrases
from acr_reconcile.trust.notary import NotaryHttp
from tests.support.fake_https import FakeServer, Reply, Seen, make_certificate

ENTRA = "entra-token-not-a-jwt-0123456789"  # only recognisable because the run holds it


def _jwt(subject: str) -> str:
    part = base64.urlsafe_b64encode(json.dumps({"sub": subject}).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJSUzI1NiJ9.{part}.c2lnbmF0dXJl"


class _Credential:
    def __init__(self, token: str) -> None:
        self.token = token

    def get_token(self, *scopes: str, **_: Any) -> Any:
        return SimpleNamespace(token=self.token, expires_on=2**40)


def _echoing(seen: Seen) -> Reply:
    """Answers every request with an error that quotes the request, headers and body."""
    said = f"bad request {seen.body.decode()} {seen.path} {seen.headers} " + "x" * 5000
    body = json.dumps({"errors": [{"code": "DENIED", "message": said}]})
    error = {"error": {"code": "BadRequest", "message": said}}
    if "/subscriptions/" in seen.path:
        body = json.dumps(error)
    return Reply(400, {"Content-Type": "application/json"}, body.encode())


@pytest.fixture
def server(tmp_path: Path) -> Iterator[FakeServer]:
    made = FakeServer(make_certificate(tmp_path), _echoing)
    yield made
    made.stop()


def _clean(error: AcrReconcileError, *secrets: str) -> str:
    text = str(error)
    assert not [s for s in secrets if s in text]
    assert len(text) < MAX_ECHO + 300
    return text


def test_an_echoing_token_service_does_not_print_the_entra_token(server: FakeServer) -> None:
    def challenge(seen: Seen) -> Reply:
        if seen.path.startswith("/oauth2/"):
            return _echoing(seen)
        realm = f"{server.url()}/oauth2/token"
        return Reply(401, {"WWW-Authenticate": f'Bearer realm="{realm}",service="s"'})

    server.handler = challenge
    source = AcrTokenSource(_Credential(ENTRA), verify=str(server.ca))
    with (
        RegistryClient(f"127.0.0.1:{server.port}", source, verify=str(server.ca)) as client,
        pytest.raises(RegistryError, match="token service refused") as caught,
    ):
        client.manifest("hello", "v1")
    source.close()
    assert server.seen[-1].carries(ENTRA)  # the service really had it to echo
    assert "[redacted]" in _clean(caught.value, ENTRA)


def test_an_echoing_registry_does_not_print_the_access_token(server: FakeServer) -> None:
    token = _jwt("registry-access")
    client = RegistryClient(
        f"127.0.0.1:{server.port}", SimpleNamespace(access_token=lambda **_: token), str(server.ca)
    )
    client._known[("hello", "pull")] = token
    with pytest.raises(RegistryError, match="HTTP 400") as caught:
        client.manifest_body("hello", "v1")
    client.close()
    assert server.seen[-1].carries(token)
    _clean(caught.value, token)


def test_an_echoing_trust_server_does_not_print_tokens_or_passphrases(
    server: FakeServer,
) -> None:
    passphrases = Passphrases.from_env({"NOTARY_ROOT_PASSPHRASE": "root-passphrase-77"})
    token = _jwt("trust-access")
    http = NotaryHttp(server.url(), None, str(server.ca))
    http._tokens["reg/hello"] = token
    with pytest.raises(TrustServerError, match="HTTP 400") as caught:
        http.get_meta("reg/hello", "root")
    assert server.seen[-1].carries(token)
    _clean(caught.value, token, str(passphrases.root))


def test_an_echoing_arm_does_not_print_the_bearer_token(server: FakeServer) -> None:
    token = _jwt("arm")
    url = server.url()
    cloud = Cloud("Test", url, "https://login.invalid", url, url, "azurecr.test")
    session = AzureSession(
        cloud, _Credential(token), retry=RetryOptions(total=0), verify=str(server.ca)
    )
    with pytest.raises(AcrReconcileError, match="BadRequest") as caught:
        list_registries(session, "00000000-0000-0000-0000-000000000001")
    session.close()
    assert server.seen[-1].carries(token)
    _clean(caught.value, token)


def test_remembered_secrets_are_replaced_wherever_they_appear() -> None:
    remember("client-secret-value-42", None, "abc", "pass phrase/with+signs")
    text = redact("secret=client-secret-value-42 Bearer opaque-value-1234 abc")
    assert text == "secret=[redacted] Bearer [redacted] abc"  # "abc": too short to matter
    assert redact("p=pass+phrase%2Fwith%2Bsigns") == "p=[redacted]"  # as a form echoes it
    assert len(echo("y" * 10_000)) == MAX_ECHO
