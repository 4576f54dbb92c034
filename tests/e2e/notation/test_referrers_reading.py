"""The product's referrers reading on the sandbox, with the referrers API and without it.

A registry of today answers ``GET /v2/<repo>/referrers/<digest>`` in pages of 100; one
with a customer-managed key has no such API (404 ``UNSUPPORTED``), and its signatures are
found through the ``sha256-<hex>`` tag-schema index. Both give the same signatures; an
SBOM referring to the same manifest is never one of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from azure.mgmt.containerregistry.models import (
    EncryptionProperty,
    ImportImageParameters,
    ImportSource,
    KeyVaultProperties,
    Registry,
    Sku,
)
from cryptography.hazmat.primitives.serialization import Encoding

from acr_reconcile.live.notation import read_signatures
from acr_reconcile.live.state import SignatureVerdict
from acr_reconcile.notation.envelope import SignatureFormat, SignRequest
from acr_reconcile.notation.envelopes import build_envelope
from acr_reconcile.notation.manifest import (
    EMPTY_CONFIG,
    EMPTY_CONFIG_TYPE,
    OCI_MANIFEST,
    SIGNATURE_ARTIFACT_TYPE,
    referrer_tag,
    signature_artifact,
)
from acr_reconcile.notation.payload import Descriptor
from acr_reconcile.notation.policy import Anchor, DocumentPolicy, verification_policy
from acr_reconcile.notation.verify import VerificationPolicy
from acr_reconcile.registry.acr_auth import AcrTokenSource
from acr_reconcile.registry.client import RegistryClient
from acr_reconcile.registry.referrers import INDEX_MEDIA_TYPE, referrers, tag_schema_index
from acr_sandbox.testing import SandboxHandle
from tests.support.notation_certs import self_signed

pytestmark = pytest.mark.e2e
SBOM = "application/vnd.example.sbom.v1"


def _client(sandbox: SandboxHandle, name: str, cmk: bool) -> Iterator[RegistryClient]:
    clients = sandbox.clients()
    clients.resources.resource_groups.create_or_update("rg-refs", {"location": "westeurope"})
    body = Registry(location="westeurope", sku=Sku(name="Premium"))
    if cmk:
        body.encryption = EncryptionProperty(
            status="enabled",
            key_vault_properties=KeyVaultProperties(
                key_identifier="https://vault.example/keys/acr/0123", identity="00000000"
            ),
        )
    created = clients.registries.registries.begin_create("rg-refs", name, body).result()
    source = ImportSource(registry_uri="docker.io", source_image="library/hello-world:latest")
    params = ImportImageParameters(source=source, target_tags=["hello-world:signed"])
    clients.registries.registries.begin_import_image("rg-refs", name, params).result()
    credential = sandbox.credential()
    tokens = AcrTokenSource(credential, verify=sandbox.ca_bundle)
    with RegistryClient(str(created.login_server), tokens, sandbox.ca_bundle) as client:
        yield client
    tokens.close()
    credential.close()


@pytest.fixture(scope="module")
def with_api(sandbox: SandboxHandle) -> Iterator[RegistryClient]:
    sandbox.reset_state()
    yield from _client(sandbox, "refsapi", cmk=False)


@pytest.fixture(scope="module")
def without_api(sandbox: SandboxHandle, with_api: RegistryClient) -> Iterator[RegistryClient]:
    yield from _client(sandbox, "refscmk", cmk=True)


def _push(client: RegistryClient, count: int) -> tuple[Descriptor, list[str], Any]:
    """``count`` signature manifests of hello-world:signed (one envelope, distinct
    creation times) and one SBOM referring to the same manifest."""
    ref = client.manifest("hello-world", "signed")
    assert ref is not None
    subject = Descriptor(ref.media_type, ref.digest, ref.size)
    identity = self_signed("p256")
    now = datetime.now(UTC)
    envelope = build_envelope(SignatureFormat.COSE, SignRequest(subject, identity.signer, now))
    chain = [c.public_bytes(Encoding.DER) for c in identity.chain]
    pushed: list[str] = []
    for n in range(count):
        artifact = signature_artifact(
            envelope, SignatureFormat.COSE, subject, chain, now + timedelta(seconds=n)
        )
        if n == 0:
            client.push_blob("hello-world", artifact.config)
            client.push_blob("hello-world", artifact.envelope)
        client.push_manifest("hello-world", artifact.digest, artifact.manifest, OCI_MANIFEST)
        pushed.append(artifact.digest)
    sbom_blob = client.push_blob("hello-world", b"sbom")
    sbom = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": SBOM,
        "config": {
            "mediaType": EMPTY_CONFIG_TYPE,
            "digest": client.push_blob("hello-world", EMPTY_CONFIG),
            "size": 2,
        },
        "layers": [{"mediaType": "text/plain", "digest": sbom_blob, "size": 4}],
        "subject": {
            "mediaType": subject.media_type,
            "digest": subject.digest,
            "size": subject.size,
        },
    }
    body = json.dumps(sbom).encode()
    sbom_digest = client.push_manifest("hello-world", "sbom", body, OCI_MANIFEST)
    pushed_all = [*pushed, sbom_digest]
    assert len(set(pushed_all)) == count + 1
    return subject, pushed, identity


def _policy(certificate: Any) -> VerificationPolicy:
    """What the document's trust policy decides: the signing certificate and its subject."""
    return verification_policy(
        DocumentPolicy(
            "refs",
            ("refs.azurecr.io/hello-world",),
            (Anchor("signing-root.pem", certificate),),
            ("x509.subject: C=US, ST=WA, O=Contoso",),
        )
    )


def _check_verdicts(
    client: RegistryClient, subject: Descriptor, pushed: list[str], identity: Any, api: bool
) -> None:
    now = datetime.now(UTC)
    found, has_api = read_signatures(
        client, "hello-world", subject, _policy(identity.chain[-1]), now
    )
    assert has_api is api
    assert sorted(s.digest for s in found) == sorted(pushed)
    assert {s.verdict for s in found} == {SignatureVerdict.TRUSTED}
    assert {s.signature_format for s in found} == {"cose"}
    assert all(s.in_tag_schema is not api for s in found)
    # another signer's root: intact, not trusted; a year on, the certificate has expired
    stranger = self_signed("p256")
    found, _ = read_signatures(client, "hello-world", subject, _policy(stranger.chain[-1]), now)
    assert {s.verdict for s in found} == {SignatureVerdict.UNTRUSTED}
    assert not any(s.expired for s in found)
    later = now + timedelta(days=3650)
    found, _ = read_signatures(client, "hello-world", subject, _policy(identity.chain[-1]), later)
    assert {s.verdict for s in found} == {SignatureVerdict.UNTRUSTED}
    assert all(s.expired for s in found)


def test_signatures_are_listed_over_pages_through_the_referrers_api(
    with_api: RegistryClient,
) -> None:
    subject, pushed, identity = _push(with_api, 101)  # the sandbox pages by 100
    found = referrers(with_api, "hello-world", subject.digest, SIGNATURE_ARTIFACT_TYPE)
    assert found.referrers_api is True
    assert sorted(r.digest for r in found.referrers) == sorted(pushed)
    assert {r.artifact_type for r in found.referrers} == {SIGNATURE_ARTIFACT_TYPE}
    _check_verdicts(with_api, subject, pushed, identity, api=True)


def test_without_the_api_signatures_are_found_by_the_tag_schema(
    without_api: RegistryClient,
) -> None:
    subject, pushed, identity = _push(without_api, 3)
    assert (
        referrers(without_api, "hello-world", subject.digest, SIGNATURE_ARTIFACT_TYPE).referrers
        == ()
    )
    # the index a signer keeps where the registry has no referrers API
    entries = [
        {
            "mediaType": OCI_MANIFEST,
            "digest": d,
            "size": len(without_api.manifest_body("hello-world", d)[0]),
            "artifactType": SIGNATURE_ARTIFACT_TYPE,
        }
        for d in pushed
    ]
    index = {"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": entries}
    tag = referrer_tag(subject.digest)
    without_api.push_manifest("hello-world", tag, json.dumps(index).encode(), INDEX_MEDIA_TYPE)
    found = referrers(without_api, "hello-world", subject.digest, SIGNATURE_ARTIFACT_TYPE)
    assert found.referrers_api is False
    assert sorted(r.digest for r in found.referrers) == sorted(pushed)
    listed, index_digest = tag_schema_index(without_api, "hello-world", subject.digest)
    assert len(listed) == 3 and index_digest is not None and index_digest.startswith("sha256:")
    _check_verdicts(without_api, subject, pushed, identity, api=False)
