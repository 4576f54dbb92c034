"""Envelopes we make pass a second, independent check of the specification's rules:
COSE decoded with cbor2 and its signature checked with cryptography alone, JWS verified
by joserfc with the notary critical headers registered. Bytes are checked as produced."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from joserfc import jwk, jws
from joserfc.registry import HeaderParameter

from acr_reconcile.notation.envelope import SignatureFormat, SignRequest
from acr_reconcile.notation.envelopes import build_envelope
from acr_reconcile.notation.payload import Descriptor
from tests.support.independent_notation import b64url as _b64url
from tests.support.independent_notation import independent_verify as _independent_verify
from tests.support.notation_certs import NOW, ca_chain, self_signed

TARGET = Descriptor(
    "application/vnd.oci.image.manifest.v1+json",
    "sha256:" + "ab" * 32,
    1234,
    {"io.acr-reconcile.tag": "signed"},
)
KINDS = ["rsa2048", "rsa3072", "rsa4096", "p256", "p384", "p521"]
ALGORITHMS = {
    "rsa2048": "PS256",
    "rsa3072": "PS384",
    "rsa4096": "PS512",
    "p256": "ES256",
    "p384": "ES384",
    "p521": "ES512",
}
COSE_IDS = {"PS256": -37, "PS384": -38, "PS512": -39, "ES256": -7, "ES384": -35, "ES512": -36}
HASHES = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}
PAYLOAD_TYPE = "application/vnd.cncf.notary.payload.v1+json"


def _request(identity: Any, **options: Any) -> SignRequest:
    return SignRequest(TARGET, identity.signer, NOW, signing_agent="acr-reconcile/test", **options)


@pytest.mark.parametrize("kind", KINDS)
def test_cose_envelope_follows_the_specification(kind: str) -> None:
    identity = self_signed(kind)
    data = build_envelope(SignatureFormat.COSE, _request(identity, expiry=NOW + timedelta(days=7)))
    message = cbor2.loads(data)
    assert isinstance(message, cbor2.CBORTag) and message.tag == 18
    protected_raw, unprotected, payload, signature = message.value
    protected = cbor2.loads(protected_raw)
    alg = ALGORITHMS[kind]
    assert protected[1] == COSE_IDS[alg]
    assert list(protected[2]) == ["io.cncf.notary.signingScheme", "io.cncf.notary.expiry"]
    assert protected[3] == PAYLOAD_TYPE
    assert protected["io.cncf.notary.signingScheme"] == "notary.x509"
    # times are CBOR tag 1 with an integer epoch, on the wire
    assert protected["io.cncf.notary.signingTime"] == NOW
    assert protected["io.cncf.notary.expiry"] == NOW + timedelta(days=7)
    for moment in (NOW, NOW + timedelta(days=7)):
        assert cbor2.dumps(cbor2.CBORTag(1, int(moment.timestamp()))) in protected_raw
    chain = list(unprotected[33])
    assert chain == [c.public_bytes(Encoding.DER) for c in identity.chain]
    assert unprotected["io.cncf.notary.signingAgent"] == "acr-reconcile/test"
    assert json.loads(payload) == {
        "targetArtifact": {
            "mediaType": TARGET.media_type,
            "digest": TARGET.digest,
            "size": 1234,
            "annotations": {"io.acr-reconcile.tag": "signed"},
        }
    }
    to_be_signed = cbor2.dumps(["Signature1", protected_raw, b"", payload])
    _independent_verify(identity.chain[0].public_key(), alg, to_be_signed, signature)


def _jwk(identity: Any) -> Any:
    public = identity.chain[0].public_key()
    pem = public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    return jwk.import_key(pem, "RSA" if isinstance(public, rsa.RSAPublicKey) else "EC")


def _notary_registry(alg: str) -> jws.JWSRegistry:
    names = [
        "io.cncf.notary.signingScheme",
        "io.cncf.notary.signingTime",
        "io.cncf.notary.expiry",
        "io.cncf.notary.signingAgent",
    ]
    headers = {n: HeaderParameter(n, "str") for n in names}
    return jws.JWSRegistry(header_registry=headers, algorithms=[alg])


@pytest.mark.parametrize("kind", KINDS)
def test_jws_envelope_verifies_with_joserfc_and_has_the_notary_headers(kind: str) -> None:
    identity = ca_chain(kind)
    data = build_envelope(SignatureFormat.JWS, _request(identity))
    envelope = json.loads(data)
    assert set(envelope) == {"payload", "protected", "header", "signature"}
    alg = ALGORITHMS[kind]
    key = _jwk(identity)
    verified = jws.deserialize_json(envelope, key, registry=_notary_registry(alg))
    protected = verified.headers()
    assert protected["alg"] == alg and protected["cty"] == PAYLOAD_TYPE
    assert protected["crit"] == ["io.cncf.notary.signingScheme"]
    assert protected["io.cncf.notary.signingScheme"] == "notary.x509"
    assert protected["io.cncf.notary.signingTime"] == "2026-12-01T12:00:00Z"
    assert "io.cncf.notary.expiry" not in protected and "typ" not in protected
    header = envelope["header"]
    assert [base64.b64decode(c) for c in header["x5c"]] == [
        c.public_bytes(Encoding.DER) for c in identity.chain
    ]
    assert json.loads(verified.payload)["targetArtifact"]["digest"] == TARGET.digest
    signing_input = f"{envelope['protected']}.{envelope['payload']}".encode()
    public = identity.chain[0].public_key()
    _independent_verify(public, alg, signing_input, _b64url(envelope["signature"]))


def test_joserfc_refuses_our_envelope_without_the_notary_headers_registered() -> None:
    """The check above is not vacuous: the critical header is really critical."""
    identity = self_signed("p256")
    envelope = json.loads(build_envelope(SignatureFormat.JWS, _request(identity)))
    key = _jwk(identity)
    with pytest.raises(Exception, match="signingScheme"):
        jws.deserialize_json(envelope, key, algorithms=["ES256"])


def test_a_key_that_is_not_the_leaf_key_cannot_sign() -> None:
    from acr_reconcile.notation.signer import FileSigner, SignerError

    with pytest.raises(SignerError, match="not the key of the first"):
        FileSigner(self_signed().key, self_signed().chain)


def test_the_file_signer_reads_pem_files_and_names_the_file_on_errors(tmp_path: Any) -> None:
    from acr_reconcile.notation.signer import FileSigner, SignerError

    identity = ca_chain("p384")
    key_path, cert_path = identity.write(tmp_path)
    signer = FileSigner.from_files(key_path, cert_path)
    assert signer.key_algorithm().value == "ES384"
    assert len(signer.certificate_chain()) == 3
    (tmp_path / "bad.key").write_text(
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
    )
    with pytest.raises(SignerError) as caught:
        FileSigner.from_files(tmp_path / "bad.key", cert_path)
    assert str(caught.value).startswith(f"{tmp_path / 'bad.key'}: not a PEM private key")
    assert "AAAA" not in str(caught.value)
