"""The notation block: the issue's example loads as written, defaults, normalisation, and
the rules that keep a fleet's shared signing vault consistent."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from acr_reconcile.errors import SpecError
from acr_reconcile.spec.loader import load_paths, load_text
from acr_reconcile.spec.notation import SignatureFormat
from acr_reconcile.spec.roles import is_key_vault_role, role_definition_guid
from tests.support.notation_certs import ca_chain, self_signed

ISSUE_EXAMPLE = """\
apiVersion: acr-reconcile/v1
kind: RegistryTrust
subscriptionId: 00000000-0000-0000-0000-000000000000
resourceGroup: {name: rg-prod, location: westeurope}
registry: {name: contosoprod, sku: Premium, contentTrust: disabled}
notation:
  signingKey:
    keyVault:
      name: contoso-signing
      resourceGroup: rg-signing
      certificate: release
      subject: "CN=release, O=Contoso, L=Seattle, ST=WA, C=US"
      validityMonths: 12
  signatureFormat: cose
  trustStore: [certs/contoso-root.pem]
  trustedIdentities: ["x509.subject: C=US, ST=WA, O=Contoso"]
signers:
  - name: release-pipeline
    principal: {appId: 11111111-1111-1111-1111-111111111111}
    roles: [AcrPush, Key Vault Crypto User, Key Vault Certificate User]
images:
  - repository: hello-world
    tags: [signed]
    sign: true
    source: docker.io/library/hello-world:latest
"""


def _doc(
    registry: str,
    vault: str,
    *,
    group: str = "",
    subject: str = "O=Contoso, ST=WA, C=US",
    certificate: str = "release",
) -> str:
    return (
        ISSUE_EXAMPLE.replace("contosoprod", registry)
        .replace("name: contoso-signing", f"name: {vault}")
        .replace("resourceGroup: rg-signing", f"resourceGroup: {group or 'rg-prod'}")
        .replace("certificate: release", f"certificate: {certificate}")
        .replace("CN=release, O=Contoso, L=Seattle, ST=WA, C=US", subject)
    )


def _issues(text: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_text(text, "fleet.yaml")
    return [str(issue) for issue in caught.value.issues]


def test_the_issue_example_loads_with_every_field() -> None:
    (document,) = load_text(ISSUE_EXAMPLE, "spec.yaml")
    notation = document.spec.notation
    assert notation is not None and notation.signing_key is not None
    vault = notation.signing_key.key_vault
    assert vault is not None and vault.name == "contoso-signing"
    assert vault.subject == "CN=release, O=Contoso, L=Seattle, ST=WA, C=US"
    assert notation.signature_format is SignatureFormat.COSE
    assert notation.trusted_identities == ["x509.subject: C=US, ST=WA, O=Contoso"]
    roles = document.spec.signers[0].roles
    assert [is_key_vault_role(r) for r in roles] == [False, True, True]
    assert role_definition_guid("Key Vault Crypto User") == "12338af0-0e69-4776-bea7-57ae8d297424"


def test_defaults_and_normalisation() -> None:
    text = ISSUE_EXAMPLE.replace("  signatureFormat: cose\n", "").replace(
        '  trustedIdentities: ["x509.subject: C=US, ST=WA, O=Contoso"]\n',
        '  trustedIdentities: ["x509.subject:C=US,S=WA,O=Contoso"]\n',
    )
    text = text.replace("      validityMonths: 12\n", "").replace(
        "      resourceGroup: rg-signing\n", ""
    )
    (document,) = load_text(text, "spec.yaml")
    notation = document.spec.notation
    assert notation is not None and notation.signing_key is not None
    vault = notation.signing_key.key_vault
    assert vault is not None
    assert (vault.validity_months, vault.resource_group) == (12, None)
    assert notation.signature_format is SignatureFormat.COSE
    # S is ST, separators normalised: the policy file gets one spelling
    assert notation.trusted_identities == ["x509.subject: C=US, ST=WA, O=Contoso"]


def test_documents_sharing_a_vault_and_certificate_that_agree_are_valid() -> None:
    fleet = "---\n".join(
        [
            _doc("contosoprod", "contoso-signing", group="rg-signing"),
            _doc("contosotest", "Contoso-Signing", group="RG-Signing"),
            # another certificate of the same vault may have its own subject
            _doc(
                "contosodev",
                "contoso-signing",
                group="rg-signing",
                certificate="dev",
                subject="CN=dev, O=Contoso, ST=WA, C=US",
            ),
        ]
    )
    assert len(load_text(fleet, "fleet.yaml")) == 3


def test_a_shared_vault_in_another_resource_group_is_refused_at_the_later_document() -> None:
    fleet = "---\n".join(
        [
            _doc("contosoprod", "contoso-signing", group="rg-a"),
            _doc("contosotest", "contoso-signing", group="rg-b"),
        ]
    )
    (issue,) = _issues(fleet)
    assert issue.startswith("fleet.yaml:36:22: ")
    assert "notation.signingKey.keyVault.resourceGroup: key vault 'contoso-signing'" in issue
    assert "is declared differently at fleet.yaml:10:" in issue


def test_a_shared_certificate_with_another_subject_is_refused() -> None:
    fleet = "---\n".join(
        [
            _doc("contosoprod", "kv1"),
            _doc("contosotest", "kv1", subject="CN=x, O=Contoso, ST=WA, C=US"),
        ]
    )
    (issue,) = _issues(fleet)
    assert "notation.signingKey.keyVault.subject: certificate 'release' of key vault 'kv1'" in issue


def test_sign_false_needs_no_signature_kind_and_a_verify_only_block_needs_anchors() -> None:
    base = ISSUE_EXAMPLE.split("notation:")[0]
    unsigned = base + "images:\n  - {repository: hello-world, tags: [plain], sign: false}\n"
    assert load_text(unsigned, "spec.yaml")
    verify_only = base + "notation: {signatureFormat: jws}\n"
    (issue,) = _issues(verify_only)
    assert "without signingKey the trust policy has no certificate to trust" in issue


def _file_spec(tmp_path: Path, identities: str = "") -> Path:
    text = ISSUE_EXAMPLE.replace(
        """    keyVault:
      name: contoso-signing
      resourceGroup: rg-signing
      certificate: release
      subject: "CN=release, O=Contoso, L=Seattle, ST=WA, C=US"
      validityMonths: 12
""",
        "    file: {key: dev/signing.key, certificate: dev/signing.crt}\n",
    ).replace("Key Vault Crypto User, Key Vault Certificate User", "AcrPull")
    text = text.replace(
        '  trustedIdentities: ["x509.subject: C=US, ST=WA, O=Contoso"]\n', identities
    )
    (tmp_path / "spec.yaml").write_text(text)
    return tmp_path / "spec.yaml"


def test_validate_reads_the_development_certificate_and_anchors(tmp_path: Path) -> None:
    spec = _file_spec(tmp_path)
    with pytest.raises(SpecError) as caught:
        load_paths([spec])
    found = "\n".join(str(i) for i in caught.value.issues)
    assert f"notation.signingKey.file.key: no key file at {tmp_path / 'dev/signing.key'}" in found
    assert f"{tmp_path / 'dev/signing.crt'}: cannot read the certificate chain" in found
    assert f"notation.trustStore.0: {tmp_path / 'certs/contoso-root.pem'}: cannot read" in found
    (tmp_path / "dev").mkdir()
    (tmp_path / "certs").mkdir()
    self_signed().write(tmp_path / "dev")
    partner = ca_chain()
    partner.write(tmp_path / "certs", "contoso-root")
    (tmp_path / "certs" / "contoso-root.pem").write_text("not a certificate")
    with pytest.raises(SpecError) as caught:
        load_paths([spec])
    (issue,) = caught.value.issues
    assert str(issue).endswith("contoso-root.pem: not a PEM certificate file")
    (tmp_path / "certs" / "contoso-root.pem").write_bytes(
        partner.chain[-1].public_bytes(Encoding.PEM)
    )
    assert len(load_paths([spec])) == 1


def test_validate_applies_the_certificate_rules_to_the_development_chain(tmp_path: Path) -> None:
    spec = _file_spec(tmp_path)
    (tmp_path / "dev").mkdir()
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "contoso-root.pem").write_bytes(
        ca_chain().chain[-1].public_bytes(Encoding.PEM)
    )
    bad = self_signed(usage_critical=False)
    bad.write(tmp_path / "dev")
    with pytest.raises(SpecError) as caught:
        load_paths([spec])
    (issue,) = caught.value.issues
    assert "notation.signingKey.file.certificate:" in str(issue)
    assert "keyUsage must be present and critical" in str(issue)


def test_a_sign_false_pin_on_a_digest_another_entry_signs_is_refused() -> None:
    pin = "sha256:" + "1" * 64
    text = ISSUE_EXAMPLE.replace(
        "    source: docker.io/library/hello-world:latest\n",
        f"    digest: {pin}\n"
        f"  - {{repository: hello-world, tags: [plain], sign: false, digest: {pin}}}\n"
        f"  - {{repository: other, tags: [plain], sign: false, digest: {pin}}}\n",
    )
    (issue,) = _issues(text)
    assert "images.1.sign: pins sha256:1111" in issue and "which images.0 signs" in issue
