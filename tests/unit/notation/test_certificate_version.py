"""A certificate whose X.509 version field is not v1-v3 is refused as bad input.

cryptography raises ``x509.InvalidVersion`` for it, which is not a ``ValueError`` like
every other parse failure, so each place that reads a certificate a server or a file
hands us must refuse it in its own error: found by the hostile-input properties.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from acr_reconcile.notation.certs import ChainError, load_chain
from acr_reconcile.notation.signer import SignerError, load_certificate_chain
from acr_reconcile.trust.crypto import PublicKey
from tests.support.notation_certs import self_signed

V3 = b"\xa0\x03\x02\x01\x02"  # [0] EXPLICIT INTEGER 2: the version field of a v3 certificate


def _version_four_der() -> bytes:
    der = self_signed().chain[0].public_bytes(serialization.Encoding.DER)
    assert der.count(V3) >= 1
    damaged = der.replace(V3, b"\xa0\x03\x02\x01\x03", 1)
    with pytest.raises(x509.InvalidVersion):  # the premise: cryptography refuses it so
        x509.load_der_x509_certificate(damaged)
    return damaged


def _pem(der: bytes) -> bytes:
    body = base64.encodebytes(der).replace(b"\n", b"")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return b"-----BEGIN CERTIFICATE-----\n" + b"\n".join(lines) + b"\n-----END CERTIFICATE-----\n"


def test_an_envelope_chain_with_a_bad_version_is_a_chain_error() -> None:
    with pytest.raises(ChainError, match="certificate 0 of the chain is not a usable"):
        load_chain([_version_four_der()])


def test_a_certificate_file_with_a_bad_version_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "signing.crt"
    path.write_bytes(_pem(_version_four_der()))
    with pytest.raises(SignerError, match=r"signing\.crt: not a PEM certificate file"):
        load_certificate_chain(path)


def test_a_trust_metadata_x509_key_with_a_bad_version_is_refused() -> None:
    public = base64.b64encode(_pem(_version_four_der())).decode()
    with pytest.raises(ValueError, match="version other than v1-v3"):
        PublicKey.from_json({"keytype": "ecdsa-x509", "keyval": {"public": public}})
