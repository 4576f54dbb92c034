"""Plan time must learn that apply cannot sign (missing key or passphrase) before anything
changes; errors name what is missing and never show a secret."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from trust_servers import TEST_PASSPHRASES, ClientFactory, NotaryServer, Pki, free_port

from acr_reconcile.errors import SigningKeyError, TrustServerError
from acr_reconcile.trust import Passphrases, TrustClient

DIGEST = hashlib.sha256(b"manifest").hexdigest()


def _client(server: str, pki: Pki, trust_dir: Path, passphrases: Passphrases) -> TrustClient:
    return TrustClient(
        server_url=server,
        token_source=None,
        verify=str(pki.ca),
        trust_dir=trust_dir,
        passphrases=passphrases,
    )


def test_ready_signer_is_told_the_role(
    make_client: ClientFactory, gun: str, tmp_path: Path
) -> None:
    client = make_client(tmp_path / "t")
    assert client.check_signing(gun) == "targets"  # new repository: docker initialises
    client.publish(gun, add={"v1": (DIGEST, 1)})
    assert client.check_signing(gun) == "targets"


def test_missing_passphrase_is_found_before_anything_changes(
    notary_server: NotaryServer, pki: Pki, make_client: ClientFactory, gun: str, tmp_path: Path
) -> None:
    locked = _client(notary_server.url, pki, tmp_path / "t", Passphrases())
    with pytest.raises(
        SigningKeyError,
        match="no passphrase for a new root key: set DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE",
    ):
        locked.check_signing(gun)
    with pytest.raises(SigningKeyError, match="DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE"):
        locked.publish(gun, add={"v1": (DIGEST, 1)})
    assert not locked.read(gun).exists  # nothing was published

    make_client(tmp_path / "t").publish(gun, add={"v1": (DIGEST, 1)})
    wrong = Passphrases(root=TEST_PASSPHRASES.root, targets="wrong-secret")
    with pytest.raises(SigningKeyError, match="incorrect passphrase") as caught:
        _client(notary_server.url, pki, tmp_path / "t", wrong).check_signing(gun)
    assert "wrong-secret" not in str(caught.value)


def test_another_machine_without_the_key_cannot_sign(
    make_client: ClientFactory, gun: str, tmp_path: Path
) -> None:
    make_client(tmp_path / "signer").publish(gun, add={"v1": (DIGEST, 1)})
    other = make_client(tmp_path / "other")
    with pytest.raises(SigningKeyError, match=f"{gun}: no local private key for targets"):
        other.check_signing(gun)
    with pytest.raises(SigningKeyError):
        other.publish(gun, add={"v2": (DIGEST, 2)})
    assert set(other.read(gun).targets) == {"v1"}


def test_unreachable_server_is_a_trust_server_error(pki: Pki, gun: str, tmp_path: Path) -> None:
    nowhere = f"https://127.0.0.1:{free_port()}"
    with pytest.raises(TrustServerError, match=f"{gun}: cannot reach the trust server {nowhere}"):
        _client(nowhere, pki, tmp_path / "t", TEST_PASSPHRASES).read(gun)
