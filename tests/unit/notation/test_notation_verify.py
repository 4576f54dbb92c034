# ruff: noqa: E501, E731  (tables of cases read best one per line)
"""Verdicts: signed, untrusted (which and why), invalid (what failed; never unsigned) and
unsigned, for our own envelopes in both formats, intact and tampered."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from acr_reconcile.notation.envelope import SignatureFormat, SignRequest
from acr_reconcile.notation.envelopes import build_envelope
from acr_reconcile.notation.identity import parse_identity
from acr_reconcile.notation.payload import Descriptor
from acr_reconcile.notation.verify import (
    NamedStore,
    StoreType,
    Verdict,
    VerificationPolicy,
    tag_verdict,
    verify_envelope,
)
from tests.support.notation_certs import NOW, ca_chain, self_signed

TARGET = Descriptor("application/vnd.oci.image.manifest.v1+json", "sha256:" + "cd" * 32, 481)
FORMATS = [SignatureFormat.COSE, SignatureFormat.JWS]


def _policy(*anchors: bytes, identity: str = "x509.subject: C=US, ST=WA, O=Contoso") -> VerificationPolicy:  # fmt: skip
    store = NamedStore(StoreType.CA, "contosoprod", anchors)
    return VerificationPolicy("contosoprod", (store,), (parse_identity(identity),))


def _sign(identity: Any, fmt: SignatureFormat, **options: Any) -> bytes:
    return build_envelope(fmt, SignRequest(TARGET, identity.signer, NOW, **options))


def _check(fmt: SignatureFormat, data: bytes, policy: VerificationPolicy, target: Descriptor = TARGET, **kw: Any) -> Any:  # fmt: skip
    return verify_envelope(fmt.media_type, data, target, policy, kw.get("now", NOW))


@pytest.mark.parametrize("fmt", FORMATS)
def test_our_signature_is_signed_by_a_trusted_identity(fmt: SignatureFormat) -> None:
    identity = ca_chain("p256")
    result = _check(fmt, _sign(identity, fmt), _policy(identity.root_der))
    assert result.verdict is Verdict.SIGNED
    assert result.signer == "C=US, ST=WA, L=Seattle, O=Contoso, CN=release"
    assert result.signed_at == NOW


@pytest.mark.parametrize("fmt", FORMATS)
def test_untrusted_says_which_check_failed(fmt: SignatureFormat) -> None:
    identity = self_signed()
    data = _sign(identity, fmt, expiry=NOW + timedelta(hours=1))
    other = self_signed(cn="other").root_der
    cases = [
        (_check(fmt, data, _policy(other)), "no certificate of the chain is in the trust store (ca:contosoprod)"),
        (
            _check(fmt, data, _policy(identity.root_der, identity="x509.subject: C=US, ST=WA, O=Fabrikam")),
            "signed by C=US, ST=WA, L=Seattle, O=Contoso, CN=release, which is not a trusted identity",
        ),
        (
            _check(fmt, data, _policy(identity.root_der), now=NOW + timedelta(hours=2)),
            "the signature expired at 2026-12-01T13:00:00Z",
        ),
    ]  # fmt: skip
    for result, reason in cases:
        assert (result.verdict, result.reason) == (Verdict.UNTRUSTED, reason)


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_expired_certificate_is_untrusted(fmt: SignatureFormat) -> None:
    identity = self_signed(not_after=NOW + timedelta(days=1))
    result = _check(
        fmt, _sign(identity, fmt), _policy(identity.root_der), now=NOW + timedelta(days=2)
    )
    assert result.verdict is Verdict.UNTRUSTED and "expired at" in result.reason


def _tamper_jws(data: bytes, member: str, change: Any) -> bytes:
    envelope = json.loads(data)
    envelope[member] = change(envelope[member])
    return json.dumps(envelope).encode()


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _other_payload(_: str) -> str:
    body = {
        "targetArtifact": {
            "mediaType": TARGET.media_type,
            "digest": "sha256:" + "ee" * 32,
            "size": 481,
        }
    }
    return _b64url(json.dumps(body).encode())


def _flip_signature(text: str) -> str:
    raw = bytearray(base64.urlsafe_b64decode(text + "=="))
    raw[5] ^= 1
    return _b64url(bytes(raw))


def test_tampered_jws_is_invalid_naming_what_failed() -> None:
    identity = self_signed("rsa2048")
    data = _sign(identity, SignatureFormat.JWS)
    policy = _policy(identity.root_der)
    stranger = self_signed("rsa2048")
    swapped_chain = lambda header: {
        **header,
        "x5c": [base64.b64encode(stranger.chain[0].public_bytes(Encoding.DER)).decode()],
    }
    cases = {
        "payload": (_tamper_jws(data, "payload", _other_payload), "does not verify"),
        "signature": (_tamper_jws(data, "signature", _flip_signature), "does not verify"),
        "chain": (_tamper_jws(data, "header", swapped_chain), "does not verify"),
        "garbage": (b"{not json", "malformed envelope"),
    }  # fmt: skip
    for name, (tampered, reason) in cases.items():
        result = _check(SignatureFormat.JWS, tampered, policy)
        assert result.verdict is Verdict.INVALID, name
        assert reason in result.reason, (name, result.reason)


def test_tampered_cose_is_invalid() -> None:
    identity = self_signed("p384")
    data = _sign(identity, SignatureFormat.COSE)
    message = cbor2.loads(data)
    protected, unprotected, payload, signature = message.value
    policy = _policy(identity.root_der)
    for changed in (
        [protected, unprotected, payload.replace(b"cdcd", b"cdce", 1), signature],
        [protected, unprotected, payload, signature[:-1] + bytes([signature[-1] ^ 1])],
        [protected.replace(b"notary.x509", b"notary.x50X"), unprotected, payload, signature],
    ):
        tampered = cbor2.dumps(cbor2.CBORTag(18, changed))
        result = _check(SignatureFormat.COSE, tampered, policy)
        assert result.verdict is Verdict.INVALID and "does not verify" in result.reason


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_signature_for_another_manifest_is_invalid_not_unsigned(fmt: SignatureFormat) -> None:
    identity = self_signed()
    other = Descriptor(TARGET.media_type, "sha256:" + "11" * 32, 481)
    result = _check(fmt, _sign(identity, fmt), _policy(identity.root_der), target=other)
    assert result.verdict is Verdict.INVALID
    assert f"not this manifest {TARGET.media_type} sha256:{'11' * 32}" in result.reason
    assert tag_verdict([result]).verdict is Verdict.INVALID


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"usage_critical": False}, "keyUsage must be present and critical"),
        ({"ca": True}, "keyUsage must include digitalSignature"),
        ({"eku": [__import__("cryptography").x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]}, "must not include serverAuth"),
    ],
)  # fmt: skip
def test_leaf_certificate_rules(options: dict[str, Any], reason: str) -> None:
    identity = ca_chain(leaf_options=options)
    result = _check(
        SignatureFormat.JWS, _sign(identity, SignatureFormat.JWS), _policy(identity.root_der)
    )
    assert result.verdict is Verdict.INVALID and reason in result.reason


def test_a_chain_must_end_in_a_self_signed_root() -> None:
    identity = ca_chain()
    identity.chain = identity.chain[:2]  # leaf and intermediate only
    result = _check(
        SignatureFormat.COSE,
        _sign(identity, SignatureFormat.COSE),
        _policy(identity.chain[1].public_bytes(Encoding.DER)),
    )
    assert result.verdict is Verdict.INVALID and "must end in a self-signed root" in result.reason


def test_an_unknown_critical_header_is_refused_as_untrusted() -> None:
    """A plugin-required envelope (critical io.cncf.notary.verificationPlugin) cannot be
    trusted without the plugin; ours is re-signed with the extra critical header."""
    from acr_reconcile.notation import jws as jws_module

    identity = self_signed("p256")
    envelope = json.loads(_sign(identity, SignatureFormat.JWS))
    header = json.loads(base64.urlsafe_b64decode(envelope["protected"] + "=="))
    header["crit"].append("io.cncf.notary.verificationPlugin")
    header["io.cncf.notary.verificationPlugin"] = "com.example.plugin"
    protected = _b64url(json.dumps(header).encode())
    signing_input = f"{protected}.{envelope['payload']}".encode()
    from acr_reconcile.notation.algorithms import Algorithm, digest

    signature = identity.signer.sign_digest(digest(Algorithm.ES256, signing_input))
    envelope.update(protected=protected, signature=_b64url(signature))
    result = _check(SignatureFormat.JWS, json.dumps(envelope).encode(), _policy(identity.root_der))
    assert result.verdict is Verdict.UNTRUSTED
    assert "verification plugin 'com.example.plugin'" in result.reason
    assert {"payload", "protected", "header", "signature"} == jws_module.TOP_LEVEL


def test_tag_verdicts() -> None:
    identity = self_signed()
    policy = _policy(identity.root_der)
    good = _check(SignatureFormat.COSE, _sign(identity, SignatureFormat.COSE), policy)
    stranger = _check(SignatureFormat.COSE, _sign(self_signed(), SignatureFormat.COSE), policy)
    broken = _check(SignatureFormat.COSE, b"\x00", policy)
    assert tag_verdict([]).verdict is Verdict.UNSIGNED
    assert tag_verdict([stranger, good, broken]).verdict is Verdict.SIGNED
    assert tag_verdict([stranger, broken]).verdict is Verdict.INVALID
    assert tag_verdict([stranger]).verdict is Verdict.UNTRUSTED
    assert "no certificate of the chain" in tag_verdict([stranger]).summary
