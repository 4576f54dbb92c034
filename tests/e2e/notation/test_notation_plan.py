"""``plan`` reads a notation document's signatures from the sandbox registry, with the
referrers API and without it (a customer-managed-key registry: the sha256-<hex> tag
schema), on a registry made under today's rules (no Docker Content Trust).

The signature is pushed by the test itself with the document's development key (apply's
signing is tested in test_notation_apply.py): before it the plan signs hello-world:signed
(exit 2); after it the plan has no changes and the sign: false tag stays unsigned; a
signature by a key the trust policy does not know is not counted as signing the tag.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
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

from acr_reconcile.notation.envelope import SignatureFormat, SignRequest
from acr_reconcile.notation.envelopes import build_envelope
from acr_reconcile.notation.manifest import (
    OCI_MANIFEST,
    SIGNATURE_ARTIFACT_TYPE,
    referrer_tag,
    signature_artifact,
)
from acr_reconcile.notation.payload import Descriptor
from acr_reconcile.registry.acr_auth import AcrTokenSource
from acr_reconcile.registry.client import RegistryClient
from acr_reconcile.registry.referrers import INDEX_MEDIA_TYPE
from acr_sandbox.testing import SandboxHandle
from tests.e2e.plan_apply_support import Cli, cli_runner
from tests.support.notation_certs import Identity, self_signed

pytestmark = pytest.mark.e2e
GROUP = "rg-notation-plan"


@pytest.fixture(scope="module")
def today(sandbox: SandboxHandle) -> Iterator[None]:
    """Today's content trust rules for this module, then the session's legacy rules back:
    later modules (the metadata test among them) rely on the fixture's mode."""
    sandbox.reset_state()
    sandbox.settings(dct="current")
    yield
    sandbox.settings(dct="legacy")


@pytest.fixture
def cli(
    sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Cli:
    return cli_runner(sandbox.env(), monkeypatch, capsys)


def _registry(sandbox: SandboxHandle, name: str, cmk: bool) -> str:
    clients = sandbox.clients()
    clients.resources.resource_groups.create_or_update(GROUP, {"location": "westeurope"})
    body = Registry(location="westeurope", sku=Sku(name="Premium"))
    if cmk:
        body.encryption = EncryptionProperty(
            status="enabled",
            key_vault_properties=KeyVaultProperties(
                key_identifier="https://vault.example/keys/acr/0123", identity="00000000"
            ),
        )
    created = clients.registries.registries.begin_create(GROUP, name, body).result()
    source = ImportSource(registry_uri="docker.io", source_image="library/hello-world:latest")
    params = ImportImageParameters(source=source, target_tags=["hello-world:signed"])
    clients.registries.registries.begin_import_image(GROUP, name, params).result()
    login_server = str(created.login_server)
    with _client(sandbox, login_server) as client:
        # another manifest for the sign: false tag (Notation signs digests, not tags)
        config = json.dumps(
            {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}
        ).encode()
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": client.push_blob("hello-world", config),
                "size": len(config),
            },
            "layers": [],
        }
        client.push_manifest("hello-world", "plain", json.dumps(manifest).encode(), OCI_MANIFEST)
    return login_server


@contextmanager
def _client(sandbox: SandboxHandle, login_server: str) -> Iterator[RegistryClient]:
    credential = sandbox.credential()
    tokens = AcrTokenSource(credential, verify=sandbox.ca_bundle)
    try:
        with RegistryClient(login_server, tokens, sandbox.ca_bundle) as client:
            yield client
    finally:
        tokens.close()
        credential.close()


def _spec(sandbox: SandboxHandle, name: str) -> str:
    return f"""\
apiVersion: acr-reconcile/v1
kind: RegistryTrust
subscriptionId: {sandbox.subscription_id}
resourceGroup: {{name: {GROUP}, location: westeurope}}
registry: {{name: {name}, sku: Premium}}
notation:
  signingKey:
    file: {{key: dev/signing.key, certificate: dev/signing.crt}}
images:
  - {{repository: hello-world, tags: [signed]}}
  - {{repository: hello-world, tags: [plain], sign: false}}
"""


def _sign(sandbox: SandboxHandle, login_server: str, identity: Identity, tag_schema: bool) -> None:
    """A signature of hello-world:signed, pushed as notation does (and, without the
    referrers API, listed in the sha256-<hex> index)."""
    with _client(sandbox, login_server) as client:
        ref = client.manifest("hello-world", "signed")
        assert ref is not None
        subject = Descriptor(ref.media_type, ref.digest, ref.size)
        now = datetime.now(UTC)
        envelope = build_envelope(SignatureFormat.COSE, SignRequest(subject, identity.signer, now))
        chain = [c.public_bytes(Encoding.DER) for c in identity.chain]
        artifact = signature_artifact(envelope, SignatureFormat.COSE, subject, chain, now)
        client.push_blob("hello-world", artifact.config)
        client.push_blob("hello-world", artifact.envelope)
        client.push_manifest("hello-world", artifact.digest, artifact.manifest, OCI_MANIFEST)
        if tag_schema:
            _index(client, subject.digest, artifact.digest, len(artifact.manifest))


def _index(client: RegistryClient, subject: str, digest: str, size: int) -> None:
    tag = referrer_tag(subject)
    entries: list[dict[str, Any]] = []
    if client.manifest("hello-world", tag) is not None:
        body, _ = client.manifest_body("hello-world", tag)
        entries = json.loads(body)["manifests"]
    entry = {"mediaType": OCI_MANIFEST, "digest": digest, "size": size}
    entries.append({**entry, "artifactType": SIGNATURE_ARTIFACT_TYPE})
    index = {"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": entries}
    client.push_manifest("hello-world", tag, json.dumps(index).encode(), INDEX_MEDIA_TYPE)


@pytest.mark.parametrize("cmk", [False, True], ids=["referrers-api", "tag-schema"])
def test_plan_reads_signatures_and_is_clean_once_signed(
    today: None, cli: Cli, sandbox: SandboxHandle, tmp_path: Path, cmk: bool
) -> None:
    name = "regnotationcmk" if cmk else "regnotationapi"
    login_server = _registry(sandbox, name, cmk)
    (tmp_path / "dev").mkdir()
    identity = self_signed("p256")
    identity.write(tmp_path / "dev")
    spec = tmp_path / "notation.yaml"
    spec.write_text(_spec(sandbox, name))

    planned = cli("plan", spec, "--detailed-exitcode")
    assert planned.code == 2, planned.text
    assert "+ notation signature hello-world:signed (sha256:" in planned.out
    assert "cose, key file signing.crt" in planned.out
    assert "hello-world:plain" not in planned.out.replace("= notation", "")

    _sign(sandbox, login_server, self_signed("p256", cn="stranger"), tag_schema=cmk)
    still = cli("plan", spec, "--detailed-exitcode")
    assert still.code == 2, still.text  # a signer the policy does not trust signs nothing
    assert "+ notation signature hello-world:signed" in still.out

    _sign(sandbox, login_server, identity, tag_schema=cmk)
    clean = cli("plan", spec, "--detailed-exitcode", "--output", "json")
    assert clean.code == 0, clean.text
    document = json.loads(clean.out)
    states = {
        c["params"]["tag"]: c["before"]
        for c in document["changes"]
        if c["kind"] == "notation-signature"
    }
    assert states["signed"]["signed"] is True
    assert states["plain"]["signed"] is False
    (signed,) = [
        c
        for c in document["changes"]
        if c["kind"] == "notation-signature" and c["params"]["tag"] == "signed"
    ]
    assert signed["params"]["referrers_api"] is (not cmk)
