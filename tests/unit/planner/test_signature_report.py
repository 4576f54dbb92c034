"""What `verify` reports, from live state as data: a signed tag verified, an unsigned one
the document leaves unsigned reported (not a failure), a tag it signs without a trusted
signature and a carried DCT digest without one each a failure."""

from __future__ import annotations

from typing import Any

from planner_live import build_documents, build_live

from acr_reconcile.plan.signature_report import signature_report

A, B, C = ("sha256:" + c * 64 for c in "abc")
NOTATION = {
    "signingKey": {
        "keyVault": {
            "name": "contoso-signing",
            "certificate": "release",
            "subject": "CN=release, O=Contoso, ST=WA, C=US",
        }
    }
}


def _report(unsigned_signed: bool, carried: list[dict[str, Any]]) -> Any:
    case = {
        "spec": {
            "registry": {"contentTrust": "disabled"},
            "notation": NOTATION,
            "images": [
                {"repository": "app", "tags": ["signed"], "sign": True},
                {"repository": "app", "tags": ["unsigned"], "sign": unsigned_signed},
            ],
        },
        "live": {
            "registries": [
                {
                    "trust": "disabled",
                    "images": [
                        {
                            "repository": "app",
                            "tag": "signed",
                            "digest": A,
                            "size": 1,
                            "signatures": [{"digest": C, "verdict": "trusted"}],
                        },
                        {"repository": "app", "tag": "unsigned", "digest": B, "size": 1},
                    ],
                    "dctFile": {"entries": [{"repository": "old", "tag": "v1", "digest": B}]},
                    "carried": carried,
                }
            ]
        },
    }
    docs = build_documents(case, "today.yaml")
    return signature_report(docs, build_live(case, docs))


def test_signed_verified_unsigned_reported_and_carried_digests_checked() -> None:
    signed = [{"repository": "old", "digest": B, "signatures": [{"digest": C}]}]
    report = _report(False, signed)
    text = "\n".join(report.lines)
    assert report.failures == 0, text
    assert "ok   app:signed (sha256:aaaaaaaaaaaa…): signed, verified (cose, CN=release" in text
    assert "--   app:unsigned (sha256:bbbbbbbbbbbb…): unsigned, as the document says" in text
    assert "carried over from Docker Content Trust (dct-inventory-registrydavid" in text
    assert "ok   old@sha256:bbbbbbbbbbbb… (tags v1): verified" in text
    assert "content trust (DCT): disabled" in text


def test_a_tag_to_sign_or_a_carried_digest_without_trusted_signature_fails() -> None:
    untrusted = [{"digest": C, "verdict": "untrusted", "reason": "not a trusted identity"}]
    report = _report(True, [{"repository": "old", "digest": B, "signatures": untrusted}])
    text = "\n".join(report.lines)
    assert report.failures == 2, text
    assert "FAIL app:unsigned (sha256:bbbbbbbbbbbb…): no trusted Notation signature" in text
    assert "FAIL old@sha256:bbbbbbbbbbbb… (tags v1): no trusted Notation signature " in text
    assert "untrusted: not a trusted identity" in text
