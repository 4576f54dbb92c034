"""A second, independent check of Notary Project envelopes against the specification:
COSE decoded with cbor2 and its signature checked with ``cryptography`` alone, JWS
verified by joserfc with the notary critical headers registered. Nothing here uses the
product's envelope code, so a shared mistake cannot pass both."""

from __future__ import annotations

import base64
import json
from typing import Any

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from joserfc import jwk, jws
from joserfc.registry import HeaderParameter

HASHES = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}
COSE_ALGORITHMS = {
    -37: "PS256",
    -38: "PS384",
    -39: "PS512",
    -7: "ES256",
    -35: "ES384",
    -36: "ES512",
}
PAYLOAD_TYPE = "application/vnd.cncf.notary.payload.v1+json"
NOTARY_HEADERS = (
    "io.cncf.notary.signingScheme",
    "io.cncf.notary.signingTime",
    "io.cncf.notary.expiry",
    "io.cncf.notary.signingAgent",
)


def b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def independent_verify(key: Any, alg: str, data: bytes, signature: bytes) -> None:
    """The spec's signature rules restated: PSS with MGF1 of the same hash and salt = hash
    length; ECDSA as raw fixed-width r||s."""
    digest = HASHES[alg[2:]]
    if alg.startswith("PS"):
        assert isinstance(key, rsa.RSAPublicKey)
        salt = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
        key.verify(signature, data, salt, digest)
        return
    assert isinstance(key, ec.EllipticCurvePublicKey)
    width = (key.curve.key_size + 7) // 8
    assert len(signature) == 2 * width
    r, s = int.from_bytes(signature[:width], "big"), int.from_bytes(signature[width:], "big")
    key.verify(utils.encode_dss_signature(r, s), data, ec.ECDSA(digest))


def check_cose(data: bytes) -> tuple[dict[str, Any], list[x509.Certificate]]:
    """A COSE_Sign1 envelope checked: its target descriptor and its chain."""
    message = cbor2.loads(data)
    assert isinstance(message, cbor2.CBORTag) and message.tag == 18
    protected_raw, unprotected, payload, signature = message.value
    protected = cbor2.loads(protected_raw)
    assert protected[3] == PAYLOAD_TYPE
    assert "io.cncf.notary.signingScheme" in list(protected[2])
    assert protected["io.cncf.notary.signingScheme"] == "notary.x509"
    assert "io.cncf.notary.signingTime" in protected
    chain = [x509.load_der_x509_certificate(bytes(c)) for c in unprotected[33]]
    to_be_signed = cbor2.dumps(["Signature1", protected_raw, b"", payload])
    alg = COSE_ALGORITHMS[protected[1]]
    independent_verify(chain[0].public_key(), alg, to_be_signed, signature)
    return json.loads(payload)["targetArtifact"], chain


def check_jws(data: bytes) -> tuple[dict[str, Any], list[x509.Certificate]]:
    """A flattened JWS envelope verified by joserfc: its target descriptor and its chain."""
    envelope = json.loads(data)
    assert set(envelope) == {"payload", "protected", "header", "signature"}
    chain = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in envelope["header"]["x5c"]]
    public = chain[0].public_key()
    pem = public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    key = jwk.import_key(pem, "RSA" if isinstance(public, rsa.RSAPublicKey) else "EC")
    alg = json.loads(b64url(envelope["protected"]))["alg"]
    headers = {n: HeaderParameter(n, "str") for n in NOTARY_HEADERS}
    registry = jws.JWSRegistry(header_registry=headers, algorithms=[alg])
    verified = jws.deserialize_json(envelope, key, registry=registry)
    protected = verified.headers()
    assert protected["cty"] == PAYLOAD_TYPE
    assert protected["crit"][0] == "io.cncf.notary.signingScheme"
    assert protected["io.cncf.notary.signingScheme"] == "notary.x509"
    signing_input = f"{envelope['protected']}.{envelope['payload']}".encode()
    independent_verify(public, alg, signing_input, b64url(envelope["signature"]))
    return json.loads(verified.payload)["targetArtifact"], chain
