"""Migrating a repository with 1,000 DCT-signed tags to Notation in one apply, against
signing the same 1,000 digests fresh with Notation in the same run. Target: reading and
verifying the DCT inventory (and verifying the carried signatures before the disable)
adds under 20 % to the apply.

On a private sandbox (legacy DCT rules, Key Vault honouring new roles at once, ARM
throttling off so the figures are the tool's): one repository gets 1,000 tags of 1,000
distinct small images, signed in DCT by one publish. A second registry gets the same
1,000 images without DCT. The signing vault and certificate are made first by a document
of their own, so neither measured apply creates them. Then, timed, each with the real CLI
(``apply --auto-approve``):

- fresh: a Notation document listing the 1,000 tags (``sign: true``) of the second registry;
- migration: the migration document of the first registry (``contentTrust: disabled``, the
  notation block, no images: every DCT-signed digest is carried), with
  ``--allow-destroy-trust``: DCT inventory read and written, 1,000 signatures, the
  verification of all 1,000, the trust disable.

Requests are the sandbox's log (ARM, Entra, Key Vault and the registries' data planes).
Run: ``python -m benchmarks dct_migration`` (``DCT_MIGRATION_TAGS`` changes the count).
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks._sandbox import run_on_private_sandbox

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TAGS = int(os.environ.get("DCT_MIGRATION_TAGS", "1000"))
TARGET = 0.20
RG, LEGACY, FRESH, VAULT = "benchmigration", "benchlegacy", "benchfresh", "kv-benchmigration"
REPOSITORY = "app"
NOTATION = f"""notation:
  signingKey:
    keyVault: {{name: {VAULT}, certificate: release, subject: "CN=release, O=Contoso, ST=WA, C=US"}}
"""


def _document(subscription: str, registry: str, images: str = "images: []\n") -> str:
    return (
        f"apiVersion: acr-reconcile/v1\nkind: RegistryTrust\nsubscriptionId: {subscription}\n"
        f"resourceGroup: {{name: {RG}, location: westeurope}}\n"
        f"registry: {{name: {registry}, sku: Premium, contentTrust: disabled}}\n"
        f"{NOTATION}signers: []\n{images}"
    )


def _cli(*args: str | Path) -> tuple[int, float]:
    from acr_reconcile.cli import main as cli

    out = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = cli([str(a) for a in args])
    elapsed = time.perf_counter() - started
    if code != 0:
        raise SystemExit(
            f"acr-reconcile {' '.join(map(str, args))} exited {code}:\n{out.getvalue()}"
        )
    return code, elapsed


def _registry(handle: Any, name: str, trust: bool) -> str:
    from azure.mgmt.containerregistry.models import Registry, Sku

    credential = handle.credential()
    clients = handle.clients(credential)
    try:
        clients.resources.resource_groups.create_or_update(RG, {"location": "westeurope"})
        body = Registry(location="westeurope", sku=Sku(name="Premium"))
        created = clients.registries.registries.begin_create(RG, name, body).result()
        if trust:
            policies = {"trustPolicy": {"type": "Notary", "status": "enabled"}}
            update = {"properties": {"policies": policies}}
            clients.registries.registries.begin_update(RG, name, update).result()
        return str(created.as_dict()["properties"]["loginServer"])
    finally:
        for client in (clients.resources, clients.registries, clients.authorization):
            client.close()
        credential.close()


def _push_and_sign(handle: Any, work: Path, legacy: str, fresh: str) -> None:
    """The same TAGS images in both registries; DCT signs them in the legacy one."""
    from acr_reconcile.live.images import DataPlane
    from tests.support.images import push_test_image

    credential = handle.credential()
    plane = DataPlane(credential, handle.ca_bundle, os.environ)
    try:
        signed: dict[str, tuple[str, int]] = {}
        for server in (legacy, fresh):
            client = plane.registry(server)
            for i in range(TAGS):
                digest = push_test_image(client, REPOSITORY, f"v{i}", f"bench-{i}")
                if server == legacy:
                    size = client.manifest(REPOSITORY, f"v{i}")
                    assert size is not None
                    signed[f"v{i}"] = (digest.removeprefix("sha256:"), int(size.size))
        plane.trust(legacy).publish(f"{legacy}/{REPOSITORY}", add=signed)
    finally:
        plane.close()
        credential.close()


def _requests(handle: Any) -> int:
    return len(handle.requests(data_plane=True))


def main() -> None:
    run_on_private_sandbox("bench-migration", _run)


def _run(handle: Any, work: Path) -> None:
    os.environ.update(handle.env() | {"DOCKER_CONFIG": str(work / "docker")})
    os.environ.update(
        {
            "DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE": "benchmark root passphrase",
            "DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE": "benchmark repository passphrase",
        }
    )
    os.chdir(work)  # the migration writes its DCT inventory here
    handle.settings(replication_lag=0.0, keyvault_rbac_delay=0.0, throttle={"enabled": False})
    sub = handle.subscription_id
    legacy, fresh = _registry(handle, LEGACY, True), _registry(handle, FRESH, False)
    started = time.perf_counter()
    _push_and_sign(handle, work, legacy, fresh)
    print(f"set-up: {TAGS} images in each registry, DCT-signed in one: "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    vault = work / "vault.yaml"
    vault.write_text(_document(sub, FRESH))
    _cli("apply", vault, "--auto-approve")  # the vault, certificate and roles, untimed
    tags = ", ".join(f"v{i}" for i in range(TAGS))
    signing = work / "fresh.yaml"
    images = f"images:\n  - {{repository: {REPOSITORY}, tags: [{tags}], sign: true}}\n"
    signing.write_text(_document(sub, FRESH, images))
    migration = work / "migration.yaml"
    migration.write_text(_document(sub, LEGACY))

    handle.clear_requests()
    _, fresh_wall = _cli("apply", signing, "--auto-approve")
    fresh_requests = _requests(handle)
    handle.clear_requests()
    _, migration_wall = _cli(
        "apply", migration, "--auto-approve", "--allow-destroy-trust",
        "--dct-inventory", work / "inventory.json",
    )  # fmt: skip
    migration_requests = _requests(handle)
    _cli("plan", migration, "--detailed-exitcode", "--dct-inventory", work / "inventory.json")
    _cli("verify", migration, "--dct-inventory", work / "inventory.json")
    overhead = migration_wall / fresh_wall - 1
    verdict = "within" if overhead < TARGET else "OVER"
    print("| run | wall | requests |\n| --- | --- | --- |")
    print(f"| sign {TAGS} digests fresh (Notation) | {fresh_wall:.2f} s | {fresh_requests} |")
    print(
        f"| migrate {TAGS} DCT-signed tags (inventory, signatures, verification, disable) | "
        f"{migration_wall:.2f} s | {migration_requests} |"
    )
    print(
        f"overhead of the migration over fresh signing: {overhead * 100:+.1f} % "
        f"({verdict} the {TARGET * 100:.0f} % target); the migrated registry plans clean and "
        "verifies"
    )
