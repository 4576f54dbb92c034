"""Trust data survives a sandbox restart: published with the official notary CLI, then
read after ``stop``/``start`` by a fresh notary CLI and by the tool's own trust client
(no cached metadata, so no trust-on-first-use shortcut), and still publishable."""

from __future__ import annotations

from pathlib import Path

import pytest
from azure.identity import ClientSecretCredential
from azure.mgmt.containerregistry.models import Registry, Sku

from acr_reconcile.registry.acr_auth import AcrTokenSource
from acr_reconcile.registry.client import RegistryClient
from acr_reconcile.trust.service import TrustClient
from acr_sandbox.testing import SandboxHandle
from tests.e2e.dataplane.dataplane_harness import run_notary
from tests.support.images import push_test_image


def _source(sandbox: SandboxHandle) -> tuple[AcrTokenSource, ClientSecretCredential]:
    credential = ClientSecretCredential(
        sandbox.tenant_id,
        sandbox.client_id,
        sandbox.client_secret,
        authority=sandbox.arm_url,
        disable_instance_discovery=True,
        connection_verify=sandbox.ca_bundle,
    )
    source = AcrTokenSource(credential, verify=sandbox.ca_bundle, tenant_id=sandbox.tenant_id)
    return source, credential


def _read(sandbox: SandboxHandle, login_server: str, gun: str, trust_dir: Path) -> dict[str, str]:
    source, credential = _source(sandbox)
    client = TrustClient(
        server_url=f"https://{login_server}",
        token_source=source.for_registry(login_server),
        verify=sandbox.ca_bundle,
        trust_dir=trust_dir,
    )
    try:
        trust = client.read(gun)
        assert trust.exists
        return {tag: target.sha256_hex for tag, target in trust.targets.items()}
    finally:
        for opened in (client.http, source):
            close = getattr(opened, "close", None)
            if close is not None:
                close()
        credential.close()


def test_trust_data_survives_a_restart(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    state = tmp_path_factory.mktemp("trust-restart")
    first = SandboxHandle.start(state)
    try:
        clients = first.clients()
        clients.resources.resource_groups.create_or_update("rg", {"location": "westeurope"})
        registry = clients.registries.registries.begin_create(
            "rg", "trustrestart01", Registry(location="westeurope", sku=Sku(name="Premium"))
        ).result()
        login_server = str(registry.login_server)
        source, credential = _source(first)
        with RegistryClient(login_server, source, verify=first.ca_bundle) as images:
            digest = push_test_image(images, "app", "v1", "restart")
            ref = images.manifest("app", "v1")
        source.close()
        credential.close()
        assert ref is not None
        ca, gun = Path(first.ca_bundle), f"{login_server}/app"
        who = f"{first.client_id}:{first.client_secret}"
        hex_digest = digest.removeprefix("sha256:")
        init = run_notary(login_server, ca, tmp_path / "signer", who, "init", gun, "-p")
        assert init.returncode == 0, init.stdout + init.stderr
        added = run_notary(
            login_server, ca, tmp_path / "signer", who,
            "addhash", gun, "v1", str(ref.size), "--sha256", hex_digest, "-p",
        )  # fmt: skip
        assert added.returncode == 0, added.stdout + added.stderr
    finally:
        first.stop()

    second = SandboxHandle.start(state)
    try:
        ca = Path(second.ca_bundle)
        who = f"{second.client_id}:{second.client_secret}"
        fresh = run_notary(login_server, ca, tmp_path / "reader", who, "list", gun)
        assert fresh.returncode == 0, fresh.stdout + fresh.stderr
        assert "v1" in fresh.stdout and hex_digest in fresh.stdout
        assert _read(second, login_server, gun, tmp_path / "tool") == {"v1": hex_digest}
        again = run_notary(
            login_server, ca, tmp_path / "signer", who,
            "addhash", gun, "v2", str(ref.size), "--sha256", hex_digest, "-p",
        )  # fmt: skip
        assert again.returncode == 0, again.stdout + again.stderr  # timestamp key still held
        listed = run_notary(login_server, ca, tmp_path / "reader", who, "list", gun)
        assert "v2" in listed.stdout
    finally:
        second.stop()
