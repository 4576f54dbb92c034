"""The bearer challenge flow: notary-server with token auth answers 401 with a challenge,
and the client asks its RegistryTokenSource for exactly the challenged scope."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from trust_doubles import IssuerTokenSource, TokenIssuer
from trust_servers import SERVICE, TEST_PASSPHRASES, NotaryServer, Pki

from acr_reconcile.errors import TrustServerError
from acr_reconcile.trust import TrustClient

DIGEST = hashlib.sha256(b"manifest").hexdigest()


def _client(
    server: NotaryServer, pki: Pki, trust_dir: Path, source: IssuerTokenSource | None
) -> TrustClient:
    return TrustClient(
        server_url=server.url,
        token_source=source,
        verify=str(pki.ca),
        trust_dir=trust_dir,
        passphrases=TEST_PASSPHRASES,
    )


def test_publish_and_read_through_the_token_flow(
    token_notary: tuple[NotaryServer, TokenIssuer], pki: Pki, gun: str, tmp_path: Path
) -> None:
    server, issuer = token_notary
    source = IssuerTokenSource(pki.ca)
    published = _client(server, pki, tmp_path / "signer", source).publish(
        gun, add={"v1": (DIGEST, 42)}
    )
    assert published.targets["v1"].length == 42

    reader_source = IssuerTokenSource(pki.ca)
    read = _client(server, pki, tmp_path / "reader", reader_source).read(gun)
    assert read.targets["v1"].sha256_hex == DIGEST
    assert (issuer.realm, SERVICE, (f"repository:{gun}:pull",)) in reader_source.asked
    assert any("push" in scopes[0] and gun in scopes[0] for _, _, scopes in source.asked)
    assert len(reader_source.asked) == 1  # one token, reused for every metadata GET


def test_without_credentials_the_server_refusal_is_clear(
    token_notary: tuple[NotaryServer, TokenIssuer], pki: Pki, gun: str, tmp_path: Path
) -> None:
    server, _ = token_notary
    with pytest.raises(TrustServerError, match=r"not authorized .* \(HTTP 401\)") as caught:
        _client(server, pki, tmp_path / "t", None).read(gun)
    assert caught.value.status == 401


def test_pull_only_grant_cannot_publish(
    token_notary: tuple[NotaryServer, TokenIssuer], pki: Pki, gun: str, tmp_path: Path
) -> None:
    server, issuer = token_notary
    issuer.grant = {"pull"}
    try:
        with pytest.raises(TrustServerError, match="not authorized"):
            _client(server, pki, tmp_path / "t", IssuerTokenSource(pki.ca)).publish(
                gun, add={"v1": (DIGEST, 1)}
            )
    finally:
        issuer.grant = {"pull", "push", "*"}
