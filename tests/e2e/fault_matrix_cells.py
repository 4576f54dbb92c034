"""The cells of the apply fault matrix: per action kind, the live state before the apply,
the spec that makes the plan carry out exactly that action, and the fault rule aimed at
the one request the action makes.

Live state is prepared through the real SDK clients (fast, no apply), so each cell's plan
holds the action under test and as little else as possible.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from acr_sandbox.testing import SandboxHandle
from tests.e2e.plan_apply_support import sdk

RG, REGISTRY, REPOSITORY = "faultrg", "faultreg", "hello-world"
HUB_IMAGE = "docker.io/library/hello-world:latest"
SIGNER = "DavidServiceAccount"
PUSH = "8311e382-0749-4cb8-b61a-304f252e45ec"
REGISTRY_PATH = rf"/registries/{REGISTRY}$"
ASSIGNMENT_PATH = r"/roleAssignments/[^/]+$"
VAULT, CERTIFICATE = "faultvault", "faultcert"

# fault -> the rule fields that make it (count 2: a first retry meets it again)
TRANSIENT = {
    "429": {"status": 429, "retryAfter": 1, "count": 2},
    "500": {"status": 500, "count": 2},
    "503": {"status": 503, "retryAfter": 1, "count": 2},
    "reset": {"reset": True, "count": 2},
}
LRO_FAILED = {"lro": "failed", "count": 1}
# outlives every retry: the run must fail, name the resource and cause, and a rerun converge
PERSISTENT = {"503 persisting": {"status": 503, "retryAfter": 1}}
FAULTS = (*TRANSIENT, "lro failed", "replication lag", "version conflict", *PERSISTENT)


@dataclass(frozen=True)
class Scenario:
    """What one cell needs: the spec text and the request the faults aim at."""

    spec: str
    method: str
    path: str
    plane: str = "control"


@dataclass(frozen=True)
class ActionKind:
    name: str
    resource: str  # what a failure message must name
    prepare: Callable[[SandboxHandle, dict[str, str]], Scenario]
    lro: bool = False
    extra: tuple[str, ...] = ()  # faults beyond the transient ones that apply
    # a migration from DCT: a run that failed must have left content trust enabled
    migration: bool = False

    def applies(self, fault: str) -> bool:
        if fault in TRANSIENT:
            return True
        if fault == "lro failed":
            return self.lro
        return fault in self.extra


def spec_text(
    *,
    sku: str = "Basic",
    trust: str = "disabled",
    signers: Sequence[tuple[str, str, str]] = (),
    prune: bool = False,
    images: Sequence[tuple[str, bool, str | None]] = (),
    subscription: str,
    vault: bool = False,
    notation_key: str | None = None,
) -> str:
    """A one-document spec; signers are (label, principal key, value) with AcrPush."""
    lines = [
        "apiVersion: acr-reconcile/v1",
        "kind: RegistryTrust",
        f"subscriptionId: {subscription}",
        f"resourceGroup: {{name: {RG}, location: westeurope}}",
        f"registry: {{name: {REGISTRY}, sku: {sku}, contentTrust: {trust}}}",
        "signers:" if signers else "signers: []",
    ]
    for label, key, value in signers:
        lines += [
            f"  - name: {label}",
            f"    principal: {{{key}: {value}}}",
            "    roles: [AcrPush]",
        ]
    lines.append(f"roleAssignments: {{prune: {'true' if prune else 'false'}}}")
    lines.append("images:" if images else "images: []")
    for tag, sign, source in images:
        lines += [f"  - repository: {REPOSITORY}", f"    tags: [{tag}]", f"    sign: {sign}"]
        lines += [f"    source: {source}"] if source else []
    if notation_key:  # Notation signing with a development key (PEM files, absolute)
        key = f"{{key: {notation_key}/signing.key, certificate: {notation_key}/signing.crt}}"
        lines += ["notation:", "  signingKey:", f"    file: {key}"]
    if vault:  # a signing vault and certificate (notation.signingKey.keyVault)
        subject = "'CN=m, O=Contoso, ST=WA, C=US'"
        key = f"{{name: {VAULT}, certificate: {CERTIFICATE}, subject: {subject}}}"
        lines += ["notation:", "  signingKey:", f"    keyVault: {key}"]
    return "\n".join(lines) + "\n"


def _registry(
    sandbox: SandboxHandle, sku: str = "Basic", trust: bool = False, cmk: bool = False
) -> Any:
    from azure.mgmt.containerregistry.models import (
        EncryptionProperty,
        KeyVaultProperties,
        Registry,
        Sku,
    )

    with sdk(sandbox) as clients:
        clients.resources.resource_groups.create_or_update(RG, {"location": "westeurope"})
        body = Registry(location="westeurope", sku=Sku(name=sku))
        if cmk:  # a customer-managed key: no referrers API, the sha256-<hex> tag schema
            body.encryption = EncryptionProperty(
                status="enabled",
                key_vault_properties=KeyVaultProperties(
                    key_identifier="https://vault.example/keys/acr/0123", identity="00000000"
                ),
            )
        created = clients.registries.registries.begin_create(RG, REGISTRY, body).result()
        if trust:
            policies = {"trustPolicy": {"type": "Notary", "status": "enabled"}}
            update = {"properties": {"policies": policies}}
            clients.registries.registries.begin_update(RG, REGISTRY, update).result()
        return created


def _assign(sandbox: SandboxHandle, registry_id: str, object_id: str) -> None:
    from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters

    from acr_reconcile.plan.names import role_assignment_name

    sub = sandbox.subscription_id
    role = f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{PUSH}"
    params = RoleAssignmentCreateParameters(
        role_definition_id=role, principal_id=object_id, principal_type="ServicePrincipal"
    )
    name = role_assignment_name(registry_id, object_id, PUSH)
    with sdk(sandbox) as clients:
        clients.authorization.role_assignments.create(registry_id, name, params)


def _import(sandbox: SandboxHandle, tag: str) -> None:
    from azure.mgmt.containerregistry.models import ImportImageParameters, ImportSource

    source = ImportSource(registry_uri="docker.io", source_image="library/hello-world:latest")
    body = ImportImageParameters(source=source, target_tags=[f"{REPOSITORY}:{tag}"])
    with sdk(sandbox) as clients:
        clients.registries.registries.begin_import_image(RG, REGISTRY, body).result()


def _new_world(sandbox: SandboxHandle, env: dict[str, str]) -> Scenario:
    spec = spec_text(subscription=sandbox.subscription_id)
    return Scenario(spec, "PUT", rf"/resourcegroups/{RG}$")


def _new_registry(sandbox: SandboxHandle, env: dict[str, str]) -> Scenario:
    return Scenario(spec_text(subscription=sandbox.subscription_id), "PUT", REGISTRY_PATH)


def _registry_update(sandbox: SandboxHandle, env: dict[str, str]) -> Scenario:
    _registry(sandbox)
    spec = spec_text(sku="Standard", subscription=sandbox.subscription_id)
    return Scenario(spec, "PATCH", REGISTRY_PATH)


def _trust_update(sandbox: SandboxHandle, env: dict[str, str]) -> Scenario:
    _registry(sandbox, sku="Premium")
    spec = spec_text(sku="Premium", trust="enabled", subscription=sandbox.subscription_id)
    return Scenario(spec, "PATCH", REGISTRY_PATH)


def _assignment_create(sandbox: SandboxHandle, env: dict[str, str]) -> Scenario:
    _registry(sandbox)
    signer = (SIGNER, "displayName", SIGNER)
    spec = spec_text(signers=[signer], subscription=sandbox.subscription_id)
    return Scenario(spec, "PUT", ASSIGNMENT_PATH)


def _assignment_prune(sandbox: SandboxHandle, env: dict[str, str]) -> Scenario:
    registry = _registry(sandbox)
    _assign(sandbox, registry.id, env["STRAY_OBJECT_ID"])
    _assign(sandbox, registry.id, env["SIGNER_OBJECT_ID"])
    signer = (SIGNER, "displayName", SIGNER)
    spec = spec_text(signers=[signer], prune=True, subscription=sandbox.subscription_id)
    return Scenario(spec, "DELETE", ASSIGNMENT_PATH)


def _image_import(sandbox: SandboxHandle, env: dict[str, str]) -> Scenario:
    _registry(sandbox, sku="Premium")
    images = [("imported", False, HUB_IMAGE)]
    spec = spec_text(sku="Premium", images=images, subscription=sandbox.subscription_id)
    return Scenario(spec, "POST", r"/importImage$")


def _signature(sandbox: SandboxHandle, env: dict[str, str]) -> Scenario:
    _registry(sandbox, sku="Premium", trust=True)
    _import(sandbox, "signed")
    images = [("signed", True, None)]
    spec = spec_text(
        sku="Premium", trust="enabled", images=images, subscription=sandbox.subscription_id
    )
    return Scenario(spec, "POST", rf"/{REPOSITORY}/_trust/tuf/$", plane="data")


def _notation_key(env: dict[str, str]) -> str:
    """The matrix's development signing key (made once), as an absolute directory."""
    from pathlib import Path

    from tests.support.notation_certs import self_signed

    directory = Path(env["WORKDIR"]) / "notation-key"
    if not directory.exists():
        directory.mkdir()
        self_signed("p256").write(directory)
    return str(directory)


def _notation_spec(sandbox: SandboxHandle, env: dict[str, str], sign: bool = True) -> str:
    images = [("signed", sign, None)]
    return spec_text(
        sku="Premium",
        images=images,
        subscription=sandbox.subscription_id,
        notation_key=_notation_key(env),
    )


SIGNATURE_MANIFEST = rf"^/v2/{REPOSITORY}/manifests/sha256:[0-9a-f]{{64}}$"


def _notation_sign(sandbox: SandboxHandle, env: dict[str, str]) -> Scenario:
    _registry(sandbox, sku="Premium")
    _import(sandbox, "signed")
    return Scenario(_notation_spec(sandbox, env), "PUT", SIGNATURE_MANIFEST, plane="data")


def _notation_index(sandbox: SandboxHandle, env: dict[str, str]) -> Scenario:
    _registry(sandbox, sku="Premium", cmk=True)
    _import(sandbox, "signed")
    index = rf"^/v2/{REPOSITORY}/manifests/sha256-[0-9a-f]{{64}}$"
    return Scenario(_notation_spec(sandbox, env), "PUT", index, plane="data")


def _notation_delete(sandbox: SandboxHandle, env: dict[str, str]) -> Scenario:
    """A trusted signature pushed as apply pushes it, then a spec with sign: false."""
    from datetime import UTC, datetime
    from pathlib import Path

    from acr_reconcile.notation.envelope import SignatureFormat, SignRequest, chain_der
    from acr_reconcile.notation.envelopes import build_envelope
    from acr_reconcile.notation.manifest import signature_artifact
    from acr_reconcile.notation.payload import Descriptor
    from acr_reconcile.notation.signer import FileSigner
    from acr_reconcile.registry.acr_auth import AcrTokenSource
    from acr_reconcile.registry.client import RegistryClient
    from acr_reconcile.registry.signature_push import push_signature

    registry = _registry(sandbox, sku="Premium")
    _import(sandbox, "signed")
    key = Path(_notation_key(env))
    signer = FileSigner.from_files(key / "signing.key", key / "signing.crt")
    credential = sandbox.credential()
    tokens = AcrTokenSource(credential, verify=sandbox.ca_bundle)
    try:
        with RegistryClient(str(registry.login_server), tokens, sandbox.ca_bundle) as client:
            ref = client.manifest(REPOSITORY, "signed")
            assert ref is not None
            subject = Descriptor(ref.media_type, ref.digest, ref.size)
            now = datetime.now(UTC)
            fmt = SignatureFormat.COSE
            envelope = build_envelope(fmt, SignRequest(subject, signer, now))
            artifact = signature_artifact(envelope, fmt, subject, list(chain_der(signer)), now)
            push_signature(client, REPOSITORY, subject.digest, artifact)
    finally:
        tokens.close()
        credential.close()
    spec = _notation_spec(sandbox, env, sign=False)
    return Scenario(spec, "DELETE", SIGNATURE_MANIFEST, plane="data")


def _vault_create(sandbox: SandboxHandle, env: dict[str, str]) -> Scenario:
    spec = spec_text(subscription=sandbox.subscription_id, vault=True)
    return Scenario(spec, "PUT", rf"/vaults/{VAULT}$")


def _certificate_create(sandbox: SandboxHandle, env: dict[str, str]) -> Scenario:
    spec = spec_text(subscription=sandbox.subscription_id, vault=True)
    return Scenario(spec, "POST", rf"/certificates/{CERTIFICATE}/create$", plane="data")


def _dct_sign(sandbox: SandboxHandle, env: dict[str, str], tag: str) -> None:
    """Sign ``tag`` in DCT as the digest the registry serves (the tool's trust client,
    with the module's key store): the legacy registry a migration starts from."""
    from acr_reconcile.live.images import DataPlane

    with sdk(sandbox) as clients:
        registry = clients.registries.registries.get(RG, REGISTRY)
    server = registry.as_dict()["properties"]["loginServer"]
    credential = sandbox.credential()
    plane = DataPlane(credential, sandbox.ca_bundle, env)
    try:
        manifest = plane.registry(server).manifest(REPOSITORY, tag)
        assert manifest is not None
        signed = (manifest.digest.removeprefix("sha256:"), manifest.size)
        plane.trust(server).publish(f"{server}/{REPOSITORY}", add={tag: signed})
    finally:
        plane.close()
        credential.close()


def _migration_disable(sandbox: SandboxHandle, env: dict[str, str]) -> Scenario:
    """A DCT registry (trust enabled, nothing signed) migrated: after the vault, the
    certificate and the verification, the destructive PATCH of the trust policy."""
    _registry(sandbox, sku="Premium", trust=True)
    spec = spec_text(sku="Premium", subscription=sandbox.subscription_id, vault=True)
    return Scenario(spec, "PATCH", REGISTRY_PATH)


def _migration_signature(sandbox: SandboxHandle, env: dict[str, str]) -> Scenario:
    """A DCT-signed tag migrated: the fault meets the push of its Notation signature
    manifest, before the verification and the disable that depend on it."""
    _registry(sandbox, sku="Premium", trust=True)
    _import(sandbox, "signed")
    _dct_sign(sandbox, env, "signed")
    images = [("signed", True, None)]
    spec = spec_text(sku="Premium", images=images, subscription=sandbox.subscription_id, vault=True)
    return Scenario(spec, "PUT", rf"/v2/{REPOSITORY}/manifests/sha256:", plane="data")


ACTIONS = (
    ActionKind("resource group create", f"resourceGroups/{RG}", _new_world),
    ActionKind("registry create", f"registries/{REGISTRY}", _new_registry, lro=True),
    ActionKind("registry update", f"registries/{REGISTRY}", _registry_update, lro=True),
    ActionKind("trust policy update", f"registries/{REGISTRY}", _trust_update, lro=True),
    ActionKind(
        "role assignment create", "roleAssignments/", _assignment_create, extra=("replication lag",)
    ),
    ActionKind("role assignment delete (prune)", "roleAssignments/", _assignment_prune),
    ActionKind("image import", f"{REPOSITORY}:imported", _image_import, lro=True),
    ActionKind("key vault create", f"vaults/{VAULT}", _vault_create),
    ActionKind("signing certificate create", f"certificates/{CERTIFICATE}", _certificate_create),
    ActionKind("notation signature push", f"{REPOSITORY}:signed", _notation_sign),
    ActionKind("notation tag-schema index update", f"{REPOSITORY}:signed", _notation_index),
    ActionKind("notation signature delete", f"{REPOSITORY}:signed", _notation_delete),
    ActionKind(
        "tag signature publish",
        f"/{REPOSITORY}",
        _signature,
        extra=("version conflict", "503 persisting"),
    ),
    ActionKind(
        "migration: carried signature push",
        f"/{REPOSITORY}",
        _migration_signature,
        extra=("503 persisting",),
        migration=True,
    ),
    ActionKind(
        "migration: trust disable",
        f"registries/{REGISTRY}",
        _migration_disable,
        lro=True,
        migration=True,
    ),
)


def cells() -> list[tuple[ActionKind, str]]:
    return [(action, fault) for action in ACTIONS for fault in FAULTS if action.applies(fault)]


def not_applicable() -> list[tuple[str, str]]:
    return [(a.name, f) for a in ACTIONS for f in FAULTS if not a.applies(f)]


def rule_for(scenario: Scenario, fault: str) -> dict[str, Any]:
    fields = TRANSIENT.get(fault) or PERSISTENT.get(fault)
    fields = fields or (LRO_FAILED if fault == "lro failed" else {})
    rule = {"method": scenario.method, "path": scenario.path, **fields}
    return rule | ({"plane": "data"} if scenario.plane == "data" else {})
