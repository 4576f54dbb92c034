# ruff: noqa: E501  (specs and cases read best one per line)
"""`acr-reconcile trust-policy`: the files notation reads, and that they enforce what the
verifier enforces (read back from disk, they accept our signature and refuse others)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from acr_reconcile.cli import main
from acr_reconcile.notation.envelope import SignatureFormat, SignRequest
from acr_reconcile.notation.envelopes import build_envelope
from acr_reconcile.notation.identity import WILDCARD, parse_identity
from acr_reconcile.notation.payload import Descriptor
from acr_reconcile.notation.signer import FileSigner
from acr_reconcile.notation.verify import (
    NamedStore,
    StoreType,
    Verdict,
    VerificationPolicy,
    verify_envelope,
)
from tests.support.notation_certs import NOW, ca_chain, self_signed

SPEC = """\
apiVersion: acr-reconcile/v1
kind: RegistryTrust
subscriptionId: 00000000-0000-0000-0000-000000000000
resourceGroup: {name: rg1, location: westeurope}
registry: {name: contosodev, contentTrust: disabled}
notation:
  signingKey:
    file: {key: dev/signing.key, certificate: dev/signing.crt}
  trustStore: [certs/partner-root.pem]
images:
  - {repository: hello-world, tags: [signed]}
  - {repository: team/app, tags: [v1]}
  - {repository: plain, tags: [x], sign: false}
---
apiVersion: acr-reconcile/v1
kind: RegistryTrust
subscriptionId: 00000000-0000-0000-0000-000000000000
resourceGroup: {name: rg1, location: westeurope}
registry: {name: contosoprod, contentTrust: disabled}
notation:
  signingKey:
    keyVault: {name: contoso-signing, certificate: release, subject: "CN=release, O=Contoso, L=Seattle, ST=WA, C=US"}
images:
  - {repository: hello-world, tags: [signed]}
"""
TARGET = Descriptor("application/vnd.oci.image.manifest.v1+json", "sha256:" + "aa" * 32, 100)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "dev").mkdir()
    (tmp_path / "certs").mkdir()
    self_signed().write(tmp_path / "dev")
    partner = ca_chain()
    (tmp_path / "certs" / "partner-root.pem").write_bytes(
        partner.chain[-1].public_bytes(Encoding.PEM)
    )
    partner.write(tmp_path / "certs", "partner")
    (tmp_path / "spec.yaml").write_text(SPEC)
    return tmp_path


def _policy_from_disk(out: Path, name: str) -> VerificationPolicy:
    """What notation would load: the policy entry and the PEM files of its store."""
    document = json.loads((out / "trustpolicy.oci.json").read_text())
    assert document["version"] == "1.0"
    (entry,) = [p for p in document["trustPolicies"] if p["name"] == name]
    assert entry["signatureVerification"] == {"level": "strict"}
    ((kind, store),) = [s.split(":") for s in entry["trustStores"]]
    ders = tuple(
        cert.public_bytes(Encoding.DER)
        for pem in sorted((out / "truststore/x509" / kind / store).glob("*.pem"))
        for cert in x509.load_pem_x509_certificates(pem.read_bytes())
    )
    identities = tuple(
        None if i == WILDCARD else parse_identity(i) for i in entry["trustedIdentities"]
    )
    return VerificationPolicy(name, (NamedStore(StoreType(kind), store, ders),), identities)


def test_the_written_policy_accepts_our_signatures_and_refuses_others(workspace: Path) -> None:
    out = workspace / "out"
    code = main(["trust-policy", str(workspace / "spec.yaml"), "--out", str(out),
                 "--certificate", f"contoso-signing/release={workspace / 'dev' / 'signing.crt'}"])  # fmt: skip
    assert code == 0
    document = json.loads((out / "trustpolicy.oci.json").read_text())
    dev, prod = document["trustPolicies"]
    assert dev["registryScopes"] == [
        "contosodev.azurecr.io/hello-world",
        "contosodev.azurecr.io/team/app",
    ]
    assert dev["trustStores"] == ["ca:contosodev"]
    assert dev["trustedIdentities"] == [
        "x509.subject: C=US, ST=WA, L=Seattle, O=Contoso, CN=release"
    ]
    assert prod["registryScopes"] == ["contosoprod.azurecr.io/hello-world"]
    policy = _policy_from_disk(out, "contosodev")
    ours = FileSigner.from_files(workspace / "dev/signing.key", workspace / "dev/signing.crt")
    partner = FileSigner.from_files(
        workspace / "certs/partner.key", workspace / "certs/partner.crt"
    )
    stranger = self_signed(cn="release")  # same subject, another key: the store decides

    def check(fmt: SignatureFormat, signer: FileSigner) -> Verdict:
        data = build_envelope(fmt, SignRequest(TARGET, signer, NOW))
        return verify_envelope(fmt.media_type, data, TARGET, policy, NOW).verdict

    for fmt in (SignatureFormat.COSE, SignatureFormat.JWS):
        assert check(fmt, ours) is Verdict.SIGNED
        # the partner root is an extra anchor; its leaf has the trusted subject too
        assert check(fmt, partner) is Verdict.SIGNED
        assert check(fmt, stranger.signer) is Verdict.UNTRUSTED


def test_a_key_vault_certificate_must_be_given_offline(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["trust-policy", str(workspace / "spec.yaml"), "--out", str(workspace / "out")])
    err = capsys.readouterr().err
    assert code == 1 and not (workspace / "out").exists()
    assert f"{workspace / 'spec.yaml'}:22:" in err
    assert "--certificate contoso-signing/release=release.pem" in err


def test_a_given_certificate_with_another_subject_is_refused(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = self_signed(cn="someone-else")
    other.write(workspace, "other")
    code = main(["trust-policy", str(workspace / "spec.yaml"), "--out", str(workspace / "out"),
                 "--certificate", f"contoso-signing/release={workspace / 'other.crt'}"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and "not the spec's subject CN=release, O=Contoso" in err
    assert "Traceback" not in err


def test_an_anchor_removed_from_the_spec_leaves_the_store(workspace: Path) -> None:
    out = workspace / "out"
    args = ["trust-policy", str(workspace / "spec.yaml"), "--out", str(out),
            "--certificate", f"contoso-signing/release={workspace / 'dev' / 'signing.crt'}"]  # fmt: skip
    assert main(args) == 0
    store = out / "truststore/x509/ca/contosodev"
    assert sorted(p.name for p in store.iterdir()) == [
        "anchor-0-0-partner-root.pem",
        "signing-root.pem",
    ]
    (store / "left-by-hand.crt").write_text("stale")
    spec = workspace / "spec.yaml"
    spec.write_text(spec.read_text().replace("  trustStore: [certs/partner-root.pem]\n", ""))
    assert main(args) == 0
    assert sorted(p.name for p in store.iterdir()) == ["signing-root.pem"]
