"""A Notary Project signature pushed to the sandbox registry and found again through the
OCI referrers API: manifest, blobs and verdict as a reader will see them.

The image is imported with ARM importImage; the signature is made with a development key
(file signer), pushed with the tool's registry client (config ``{}``, envelope blob, the
signature manifest by digest), listed by ``GET /v2/<repo>/referrers/<digest>``, and
checked byte for byte: manifest shape and subject, blob digest over the bytes fetched,
then the envelope's verdict under the trust policy ``trust-policy`` would write.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from azure.mgmt.containerregistry.models import ImportImageParameters, ImportSource, Registry, Sku
from cryptography.hazmat.primitives.serialization import Encoding

from acr_reconcile.notation.envelope import SignatureFormat, SignRequest
from acr_reconcile.notation.envelopes import build_envelope
from acr_reconcile.notation.manifest import (
    OCI_MANIFEST,
    SIGNATURE_ARTIFACT_TYPE,
    check_blob,
    read_signature_manifest,
    signature_artifact,
)
from acr_reconcile.notation.payload import Descriptor
from acr_reconcile.notation.policy import Anchor, DocumentPolicy, verification_policy
from acr_reconcile.notation.verify import Verdict, tag_verdict, verify_envelope
from acr_reconcile.registry.acr_auth import AcrTokenSource
from acr_reconcile.registry.client import RegistryClient
from acr_sandbox.testing import SandboxHandle
from tests.support.notation_certs import self_signed

pytestmark = pytest.mark.e2e
INDEX = "application/vnd.oci.image.index.v1+json"


@pytest.fixture(scope="module")
def registry(sandbox: SandboxHandle) -> Iterator[RegistryClient]:
    sandbox.reset_state()
    clients = sandbox.clients()
    clients.resources.resource_groups.create_or_update("rg-sign", {"location": "westeurope"})
    created = clients.registries.registries.begin_create(
        "rg-sign", "notationdev", Registry(location="westeurope", sku=Sku(name="Premium"))
    ).result()
    source = ImportSource(registry_uri="docker.io", source_image="library/hello-world:latest")
    params = ImportImageParameters(source=source, target_tags=["hello-world:signed"])
    clients.registries.registries.begin_import_image("rg-sign", "notationdev", params).result()
    credential = sandbox.credential()
    tokens = AcrTokenSource(credential, verify=sandbox.ca_bundle)
    with RegistryClient(created.login_server, tokens, sandbox.ca_bundle) as client:
        yield client
    tokens.close()
    credential.close()


@pytest.mark.parametrize("fmt", [SignatureFormat.COSE, SignatureFormat.JWS])
def test_a_pushed_signature_is_found_by_referrers_and_verifies(
    registry: RegistryClient, fmt: SignatureFormat
) -> None:
    ref = registry.manifest("hello-world", "signed")
    assert ref is not None
    subject = Descriptor(ref.media_type, ref.digest, ref.size)
    identity = self_signed("p256")
    now = datetime.now(UTC)
    envelope = build_envelope(fmt, SignRequest(subject, identity.signer, now))
    chain = [c.public_bytes(Encoding.DER) for c in identity.chain]
    artifact = signature_artifact(envelope, fmt, subject, chain, now)
    registry.push_blob("hello-world", artifact.config)
    registry.push_blob("hello-world", artifact.envelope)
    pushed = registry.push_manifest("hello-world", artifact.digest, artifact.manifest, OCI_MANIFEST)
    assert pushed == artifact.digest

    path = f"/v2/hello-world/referrers/{subject.digest}"
    listing = registry.request("GET", path, repository="hello-world")
    assert listing.status_code == 200
    assert listing.headers["Content-Type"].split(";")[0] == INDEX
    found = [m for m in listing.json()["manifests"] if m["artifactType"] == SIGNATURE_ARTIFACT_TYPE]
    assert artifact.digest in [m["digest"] for m in found]

    policy = verification_policy(
        DocumentPolicy(
            "notationdev",
            ("notationdev.azurecr.io/hello-world",),
            (Anchor("signing-root.pem", identity.chain[-1]),),
            ("x509.subject: C=US, ST=WA, O=Contoso",),
        )
    )
    results = []
    for entry in found:
        body, _ = registry.manifest_body("hello-world", entry["digest"])
        layer = read_signature_manifest(body, subject)
        blob = registry.blob("hello-world", layer.digest)
        check_blob(blob, layer)
        results.append(verify_envelope(layer.media_type, blob, subject, policy, now))
    mine = [r for r in results if r.verdict is Verdict.SIGNED]
    assert len(mine) == 1 and mine[0].signer == "C=US, ST=WA, L=Seattle, O=Contoso, CN=release"
    assert tag_verdict(results).verdict is Verdict.SIGNED
