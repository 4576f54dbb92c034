"""Session servers for the trust tests: one plain notary-server, and one behind token auth
with our own token issuer. Both bind free ports and are stopped at the end."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from trust_doubles import TokenIssuer
from trust_servers import (
    ISSUER,
    SERVICE,
    TEST_PASSPHRASES,
    ClientFactory,
    NotaryCli,
    NotaryServer,
    Pki,
    make_pki,
    start_notary_server,
)

from acr_reconcile.trust import TrustClient


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("trust-pki"))


@pytest.fixture(scope="session")
def notary_server(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[NotaryServer]:
    server = start_notary_server(tmp_path_factory.mktemp("notary-server"), pki)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def token_notary(
    tmp_path_factory: pytest.TempPathFactory, pki: Pki
) -> Iterator[tuple[NotaryServer, TokenIssuer]]:
    issuer = TokenIssuer(pki)
    issuer.start()
    auth = {
        "type": "token",
        "options": {
            "realm": issuer.realm,
            "service": SERVICE,
            "issuer": ISSUER,
            "rootcertbundle": str(pki.ca.resolve()),
        },
    }
    server = start_notary_server(tmp_path_factory.mktemp("notary-token"), pki, auth)
    yield server, issuer
    server.stop()
    issuer.stop()


@pytest.fixture
def gun() -> str:
    return f"registry.test:5000/app-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def make_client(notary_server: NotaryServer, pki: Pki) -> ClientFactory:
    def make(
        trust_dir: Path,
        *,
        server_url: str | None = None,
        now: Callable[[], datetime] | None = None,
        token_source: object = None,
    ) -> TrustClient:
        extra = {"now": now} if now else {}
        return TrustClient(
            server_url=server_url or notary_server.url,
            token_source=token_source,  # type: ignore[arg-type]
            verify=str(pki.ca),
            trust_dir=trust_dir,
            passphrases=TEST_PASSPHRASES,
            **extra,
        )

    return make


@pytest.fixture
def make_cli(notary_server: NotaryServer, pki: Pki) -> Callable[[Path], NotaryCli]:
    def make(trust_dir: Path) -> NotaryCli:
        return NotaryCli(notary_server.url, pki.ca, trust_dir)

    return make
