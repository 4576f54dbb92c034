"""The walkthrough with Notary Project signatures instead of Docker Content Trust, on a
registry made under today's rules: apply creates the resource group, the registry, the
signing vault and certificate, the roles, imports both images and signs
hello-world:signed with the vault's key (the digest goes to Key Vault); the unsigned
image stays unsigned; then the plan has no changes. With the referrers API and without
it (a customer-managed-key registry: the sha256-<hex> tag schema).

Our envelope, fetched back from the registry, passes the independent check (cbor2 /
joserfc, tests/support/independent_notation.py) and our verifier under the document's
trust policy. Then: a tag pushed over without a signature is drift and re-signed;
``sign: false`` deletes the trusted signature (and its tag-schema entry).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from azure.mgmt.containerregistry.models import (
    EncryptionProperty,
    KeyVaultProperties,
    Registry,
    Sku,
)

from acr_reconcile.notation.manifest import (
    SIGNATURE_ARTIFACT_TYPE,
    check_blob,
    read_signature_manifest,
    referrer_tag,
)
from acr_reconcile.notation.payload import Descriptor
from acr_reconcile.registry.acr_auth import AcrTokenSource
from acr_reconcile.registry.client import RegistryClient
from acr_reconcile.registry.referrers import referrers, tag_schema_index
from acr_sandbox.testing import SandboxHandle
from tests.e2e.plan_apply_support import Cli, cli_runner
from tests.support.images import push_test_image
from tests.support.independent_notation import check_cose, check_jws

pytestmark = pytest.mark.e2e
GROUP = "rg-notation-apply"
SUBJECT = "CN=release, O=Contoso, L=Seattle, ST=WA, C=US"


@dataclass(frozen=True)
class Setting:
    signer_app: str


@pytest.fixture(scope="module")
def today(sandbox: SandboxHandle) -> Iterator[Setting]:
    """Today's content trust rules, Key Vault holding new grants back a little (as Azure
    does for minutes), then the session's settings back."""
    sandbox.reset_state()
    sandbox.settings(dct="current", keyvault_rbac_delay=2, replication_lag=0.0)
    app, _, _ = sandbox.add_principal("release-pipeline")
    yield Setting(app)
    sandbox.settings(dct="legacy", keyvault_rbac_delay=0)


@pytest.fixture
def cli(
    sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Cli:
    return cli_runner(sandbox.env(), monkeypatch, capsys)


def walkthrough_spec(
    sandbox: SandboxHandle, registry: str, vault: str, signer_app: str, sign: bool = True
) -> str:
    return f"""\
apiVersion: acr-reconcile/v1
kind: RegistryTrust
subscriptionId: {sandbox.subscription_id}
resourceGroup: {{name: {GROUP}, location: westeurope}}
registry: {{name: {registry}, sku: Premium, contentTrust: disabled}}
notation:
  signingKey:
    keyVault: {{name: {vault}, certificate: release, subject: "{SUBJECT}"}}
signers:
  - name: release-pipeline
    principal: {{appId: {signer_app}}}
    roles: [AcrPush, Key Vault Crypto User, Key Vault Certificate User]
images:
  - repository: hello-world
    tags: [signed]
    sign: {str(sign).lower()}
    source: docker.io/library/hello-world:latest
  - repository: hello-world
    tags: [unsigned]
    sign: false
    source: docker.io/library/hello-world:unsigned
"""


def cmk_registry(sandbox: SandboxHandle, name: str) -> None:
    """A registry encrypted with a customer-managed key: no referrers API on ACR."""
    clients = sandbox.clients()
    clients.resources.resource_groups.create_or_update(GROUP, {"location": "westeurope"})
    body = Registry(location="westeurope", sku=Sku(name="Premium"))
    body.encryption = EncryptionProperty(
        status="enabled",
        key_vault_properties=KeyVaultProperties(
            key_identifier="https://vault.example/keys/acr/0123", identity="00000000"
        ),
    )
    clients.registries.registries.begin_create(GROUP, name, body).result()


@dataclass
class Registry_:
    client: RegistryClient
    tokens: AcrTokenSource
    credential: Any

    def close(self) -> None:
        self.client.close()
        self.tokens.close()
        self.credential.close()


def registry_client(sandbox: SandboxHandle, name: str) -> Registry_:
    registry = sandbox.clients().registries.registries.get(GROUP, name)
    credential = sandbox.credential()
    tokens = AcrTokenSource(credential, verify=sandbox.ca_bundle)
    client = RegistryClient(str(registry.login_server), tokens, sandbox.ca_bundle)
    return Registry_(client, tokens, credential)


def signatures(client: RegistryClient, repository: str, tag: str) -> list[dict[str, Any]]:
    """Every signature of the tag's manifest as the registry lists it, each envelope
    fetched back and checked independently (its payload must name the manifest)."""
    ref = client.manifest(repository, tag)
    assert ref is not None
    subject = Descriptor(ref.media_type, ref.digest, ref.size)
    found = referrers(client, repository, ref.digest, SIGNATURE_ARTIFACT_TYPE)
    out = []
    for entry in found.referrers:
        body, _ = client.manifest_body(repository, entry.digest)
        layer = read_signature_manifest(body, subject)
        blob = client.blob(repository, layer.digest)
        check_blob(blob, layer)
        check = check_cose if layer.media_type == "application/cose" else check_jws
        target, chain = check(blob)
        assert (target["mediaType"], target["digest"], target["size"]) == (
            ref.media_type,
            ref.digest,
            ref.size,
        )
        out.append(
            {
                "digest": entry.digest,
                "media_type": layer.media_type,
                "subject": chain[0].subject.rfc4514_string(),
                "api": found.referrers_api,
            }
        )
    return out


@pytest.mark.parametrize("cmk", [False, True], ids=["referrers-api", "tag-schema"])
def test_walkthrough_with_notation_signs_with_key_vault_then_plans_clean(
    today: Setting, cli: Cli, sandbox: SandboxHandle, tmp_path: Path, cmk: bool
) -> None:
    name = "regnotationapplycmk" if cmk else "regnotationapply"
    vault = "kv-apply-cmk" if cmk else "kv-apply-api"
    if cmk:
        cmk_registry(sandbox, name)
    spec = tmp_path / "walkthrough.yaml"
    spec.write_text(walkthrough_spec(sandbox, name, vault, today.signer_app))

    planned = cli("plan", spec, "--detailed-exitcode")
    assert planned.code == 2, planned.text
    assert "+ notation signature hello-world:signed" in planned.out
    assert "notation-apply-unsupported" not in planned.text

    applied = cli("apply", spec, "--auto-approve")  # Key Vault holds the new grants back
    assert applied.code == 0, applied.text

    registry = registry_client(sandbox, name)
    try:
        signed = signatures(registry.client, "hello-world", "signed")
        assert len(signed) == 1, signed
        assert signed[0]["media_type"] == "application/cose"
        assert signed[0]["subject"] == "CN=release,O=Contoso,L=Seattle,ST=WA,C=US"
        assert signed[0]["api"] is (not cmk)
        assert signatures(registry.client, "hello-world", "unsigned") == []
        ref = registry.client.manifest("hello-world", "signed")
        assert ref is not None
        tags = registry.client.tags("hello-world")
        assert (referrer_tag(ref.digest) in tags) is cmk
    finally:
        registry.close()

    clean = cli("plan", spec, "--detailed-exitcode", "--output", "json")
    assert clean.code == 0, clean.text
    states = {
        c["params"]["tag"]: c["before"]
        for c in json.loads(clean.out)["changes"]
        if c["kind"] == "notation-signature"
    }
    assert states["signed"]["signed"] is True and states["unsigned"]["signed"] is False

    again = cli("apply", spec, "--auto-approve")
    assert again.code == 0, again.text
    registry = registry_client(sandbox, name)
    try:
        assert len(signatures(registry.client, "hello-world", "signed")) == 1
    finally:
        registry.close()


@pytest.mark.parametrize("cmk", [False, True], ids=["referrers-api", "tag-schema"])
def test_a_tag_pushed_over_without_signing_is_drift_and_resigned(
    today: Setting, cli: Cli, sandbox: SandboxHandle, tmp_path: Path, cmk: bool
) -> None:
    name = "regnotationapplycmk" if cmk else "regnotationapply"
    vault = "kv-apply-cmk" if cmk else "kv-apply-api"
    spec = tmp_path / "walkthrough.yaml"
    spec.write_text(walkthrough_spec(sandbox, name, vault, today.signer_app))
    assert cli("apply", spec, "--auto-approve").code == 0

    registry = registry_client(sandbox, name)
    try:
        push_test_image(registry.client, "hello-world", "signed", f"ci-build-{cmk}")
        assert signatures(registry.client, "hello-world", "signed") == []
    finally:
        registry.close()
    drift = cli("plan", spec, "--detailed-exitcode")
    assert drift.code == 2, drift.text
    assert "+ notation signature hello-world:signed" in drift.out

    applied = cli("apply", spec, "--auto-approve")
    assert applied.code == 0, applied.text
    assert "waiting for the new Key Vault role assignment" not in applied.text
    registry = registry_client(sandbox, name)
    try:
        assert len(signatures(registry.client, "hello-world", "signed")) == 1
    finally:
        registry.close()
    assert cli("plan", spec, "--detailed-exitcode").code == 0


@pytest.mark.parametrize("cmk", [False, True], ids=["referrers-api", "tag-schema"])
def test_sign_false_with_a_trusted_signature_deletes_it(
    today: Setting, cli: Cli, sandbox: SandboxHandle, tmp_path: Path, cmk: bool
) -> None:
    name = "regnotationapplycmk" if cmk else "regnotationapply"
    vault = "kv-apply-cmk" if cmk else "kv-apply-api"
    spec = tmp_path / "walkthrough.yaml"
    spec.write_text(walkthrough_spec(sandbox, name, vault, today.signer_app))
    assert cli("apply", spec, "--auto-approve").code == 0
    spec.write_text(walkthrough_spec(sandbox, name, vault, today.signer_app, sign=False))
    registry = registry_client(sandbox, name)
    try:
        ref = registry.client.manifest("hello-world", "signed")
        assert ref is not None
        _, signed_index = tag_schema_index(registry.client, "hello-world", ref.digest)
    finally:
        registry.close()
    assert (signed_index is None) is not cmk

    planned = cli("plan", spec, "--detailed-exitcode")
    assert planned.code == 2, planned.text
    assert "remove trusted notation signature" in planned.out

    applied = cli("apply", spec, "--auto-approve")
    assert applied.code == 0, applied.text
    registry = registry_client(sandbox, name)
    try:
        assert signatures(registry.client, "hello-world", "signed") == []
        entries, index = tag_schema_index(registry.client, "hello-world", ref.digest)
        assert entries == []  # no entry names the deleted manifest
        if signed_index is not None:  # the index it replaced is deleted, not left untagged
            assert index != signed_index
            assert registry.client.manifest("hello-world", signed_index) is None
    finally:
        registry.close()
    assert cli("plan", spec, "--detailed-exitcode").code == 0


READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424"
CERTIFICATE_USER = "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba"
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
HUB = "docker.io/library/hello-world"
V2 = "docker.io/library/hello-world:v2"


def grant(sandbox: SandboxHandle, scope: str, role: str, object_id: str) -> None:
    import uuid

    from azure.mgmt.authorization.models import RoleAssignmentCreateParameters

    definition = (
        f"/subscriptions/{sandbox.subscription_id}/providers/Microsoft.Authorization/"
        f"roleDefinitions/{role}"
    )
    sandbox.clients().authorization.role_assignments.create(
        scope,
        str(uuid.uuid4()),
        RoleAssignmentCreateParameters(
            role_definition_id=definition, principal_id=object_id, principal_type="ServicePrincipal"
        ),
    )


def test_a_read_only_identity_sees_a_tag_pushed_over_as_drift_without_the_key(
    today: Setting,
    cli: Cli,
    sandbox: SandboxHandle,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A Reader with AcrPull (no Key Vault data access: the vault answers 403 for the
    certificate) plans: signature verdicts do not need the vault, so the unsigned tag is drift."""
    name, vault = "regnotationapply", "kv-apply-api"
    spec = tmp_path / "walkthrough.yaml"
    spec.write_text(walkthrough_spec(sandbox, name, vault, today.signer_app))
    assert cli("apply", spec, "--auto-approve").code == 0
    app, object_id, secret = sandbox.add_principal("read-only-auditor")
    grant(sandbox, f"/subscriptions/{sandbox.subscription_id}", READER, object_id)
    registry_id = str(sandbox.clients().registries.registries.get(GROUP, name).id)
    grant(sandbox, registry_id, ACR_PULL, object_id)  # reads manifests and signatures
    reader = cli_runner(
        sandbox.env() | {"AZURE_CLIENT_ID": app, "AZURE_CLIENT_SECRET": secret},
        monkeypatch,
        capsys,
    )
    # exit 2 either way: the plan grants the identity planning the Key Vault roles it
    # would need to apply (it is shown, not hidden); the signatures are what differs
    signed = reader("plan", spec, "--detailed-exitcode", "--output", "json")
    assert signed.code == 2, signed.text
    document = json.loads(signed.out)
    rules = {d["details"].get("rule") for d in document["diagnostics"]}
    assert "notation-judged-by-subject" in rules and "notation-not-read" not in rules
    pending = [c for c in document["changes"] if c["kind"] == "notation-signature"]
    assert all(c["action"] == "no-op" for c in pending), pending

    registry = registry_client(sandbox, name)
    try:
        push_test_image(registry.client, "hello-world", "signed", "pushed-by-ci-unsigned")
    finally:
        registry.close()
    drift = reader("plan", spec, "--detailed-exitcode")
    assert drift.code == 2, drift.text
    assert "+ notation signature hello-world:signed" in drift.out
    assert secret not in drift.text
    owner = cli_runner(sandbox.env(), monkeypatch, capsys)  # the pipeline re-signs it
    resigned = owner("apply", spec, "--auto-approve")
    assert resigned.code == 0, resigned.text


def test_an_identity_whose_key_vault_grant_does_not_count_yet_is_refused_before_any_write(
    today: Setting,
    sandbox: SandboxHandle,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Its Key Vault Crypto User and Certificate User were just assigned on the vault (the
    plan needs no grant), but Key Vault does not honour them yet: apply reads the
    certificate and signs a probe before its first write, and stops, naming the vault and
    the certificate; the new tag is neither imported nor signed."""
    from tests.e2e.plan_apply_support import writes

    name, vault = "regnotationapply", "kv-apply-api"
    app, object_id, secret = sandbox.add_principal("new-pipeline")
    grant(sandbox, f"/subscriptions/{sandbox.subscription_id}", OWNER, object_id)
    vault_id = str(sandbox.keyvault_client().vaults.get(GROUP, vault).id)
    sandbox.settings(keyvault_rbac_delay=600)
    try:
        for role in (CRYPTO_USER, CERTIFICATE_USER):
            grant(sandbox, vault_id, role, object_id)
        spec = tmp_path / "walkthrough.yaml"
        spec.write_text(
            walkthrough_spec(sandbox, name, vault, today.signer_app)
            + f"  - {{repository: hello-world, tags: [v2], source: {V2}}}\n"
        )
        pipeline = cli_runner(
            sandbox.env() | {"AZURE_CLIENT_ID": app, "AZURE_CLIENT_SECRET": secret},
            monkeypatch,
            capsys,
        )
        sandbox.clear_requests()
        refused = pipeline("apply", spec, "--auto-approve")
    finally:
        sandbox.settings(keyvault_rbac_delay=2)
    assert refused.code == 1, refused.text
    assert "apply cannot start: 1 signing key(s) cannot sign" in refused.err
    assert f"key vault {vault}, certificate release" in refused.err
    assert "nothing was changed" in refused.err and "Traceback" not in refused.err
    assert secret not in refused.text
    assert writes(sandbox.requests()) == []
    registry = registry_client(sandbox, name)
    try:
        assert registry.client.manifest("hello-world", "v2") is None
    finally:
        registry.close()


def test_jws_signatures_with_a_file_key_on_the_tag_schema(
    today: Setting, cli: Cli, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    from tests.support.notation_certs import self_signed

    name = "regnotationfilekey"
    cmk_registry(sandbox, name)
    (tmp_path / "dev").mkdir()
    self_signed("p384").write(tmp_path / "dev")
    spec = tmp_path / "file-key.yaml"
    spec.write_text(f"""\
apiVersion: acr-reconcile/v1
kind: RegistryTrust
subscriptionId: {sandbox.subscription_id}
resourceGroup: {{name: {GROUP}, location: westeurope}}
registry: {{name: {name}, sku: Premium}}
notation:
  signatureFormat: jws
  signingKey:
    file: {{key: dev/signing.key, certificate: dev/signing.crt}}
images:
  - {{repository: hello-world, tags: [signed], source: docker.io/library/hello-world:latest}}
  - {{repository: hello-world, tags: [other], source: docker.io/library/hello-world:other}}
""")
    applied = cli("apply", spec, "--auto-approve")
    assert applied.code == 0, applied.text
    key_body = (tmp_path / "dev" / "signing.key").read_text().splitlines()[1]
    assert key_body not in applied.text  # the private key never reaches the output
    registry = registry_client(sandbox, name)
    try:
        for tag in ("signed", "other"):
            found = signatures(registry.client, "hello-world", tag)
            assert [s["media_type"] for s in found] == ["application/jose+json"], found
            assert found[0]["api"] is False
    finally:
        registry.close()
    assert cli("plan", spec, "--detailed-exitcode").code == 0


def test_key_vault_throttling_is_waited_out_without_a_duplicate_signature(
    today: Setting, cli: Cli, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """Key Vault answers four signs in a row 429 with Retry-After (as it does over its
    per-vault limit), one more than the SDK retries a status: its retry waits out three,
    apply's own retry the fourth; every tag gets one signature, none twice."""
    name, vault = "regnotationapply", "kv-apply-api"
    spec = tmp_path / "walkthrough.yaml"
    more = "".join(
        f"  - {{repository: hello-world, tags: [{t}], source: '{HUB}:{t}'}}\n"
        for t in ("burst-1", "burst-2", "burst-3")
    )
    spec.write_text(walkthrough_spec(sandbox, name, vault, today.signer_app) + more)
    sign = r"^/keys/release/[0-9a-f]+/sign$"
    sandbox.set_faults(
        [
            {
                "plane": "data",
                "method": "POST",
                "path": sign,
                "status": 429,
                "retryAfter": 1,
                "count": 4,
            }
        ]
    )
    sandbox.clear_requests()
    try:
        applied = cli("apply", spec, "--auto-approve")
        fired = sandbox.faults()[0]["fired"]
    finally:
        sandbox.clear_faults()
    assert applied.code == 0, applied.text
    assert fired == 4
    answered = [
        e["status"] for e in sandbox.requests(data_plane=True) if e["path"].endswith("/sign")
    ]
    assert answered.count(429) == 4 and answered.count(200) >= 3, answered
    registry = registry_client(sandbox, name)
    try:
        for tag in ("burst-1", "burst-2", "burst-3", "signed"):
            assert len(signatures(registry.client, "hello-world", tag)) == 1, tag
    finally:
        registry.close()
    assert cli("plan", spec, "--detailed-exitcode").code == 0


def test_signing_under_the_vaults_own_limit_ends_signed_once_each(
    today: Setting, cli: Cli, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """The sandbox's Key Vault limit (per vault and window, as Azure's) set to 3 key
    transactions per 3 s: four signatures at once meet 429 + Retry-After until the window
    ends; all land, each once."""
    name, vault = "regnotationapply", "kv-apply-api"
    spec = tmp_path / "walkthrough.yaml"
    more = "".join(
        f"  - {{repository: hello-world, tags: [{t}], source: '{HUB}:{t}'}}\n"
        for t in ("limit-1", "limit-2", "limit-3", "limit-4")
    )
    spec.write_text(walkthrough_spec(sandbox, name, vault, today.signer_app) + more)
    sandbox.clear_requests()
    sandbox.settings(keyvault_throttle={"transactions": 3, "windowSeconds": 3})
    try:
        applied = cli("apply", spec, "--auto-approve")
    finally:
        sandbox.settings(keyvault_throttle={"transactions": 4000, "windowSeconds": 10})
    assert applied.code == 0, applied.text
    answered = [
        e["status"] for e in sandbox.requests(data_plane=True) if e["path"].endswith("/sign")
    ]
    assert 429 in answered, answered  # the limit was met, and waited out
    registry = registry_client(sandbox, name)
    try:
        for tag in ("limit-1", "limit-2", "limit-3", "limit-4"):
            assert len(signatures(registry.client, "hello-world", tag)) == 1, tag
    finally:
        registry.close()
