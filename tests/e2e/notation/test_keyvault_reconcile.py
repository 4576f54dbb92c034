"""The signing vault and certificate as reconciled state, end to end on the sandbox.

The real CLI plans a notation document whose vault does not exist, applies it (vault,
signer and caller Key Vault roles at the vault scope, the certificate with the tutorial's
policy) while the sandbox holds new Key Vault role assignments back for a few seconds as
Azure does for minutes: apply says it waits and waits them out. Then the plan is clean,
and a run that needs no new role assignment never waits.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.keyvault.certificates import CertificateClient
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from acr_sandbox.testing import SandboxHandle
from tests.e2e.plan_apply_support import Cli, cli_runner, sdk, writes

pytestmark = pytest.mark.e2e

VAULT, GROUP, REGISTRY = "kv-signing-e2e", "rg-notation", "registrynotation"
SUBJECT = "CN=release, O=Contoso, L=Seattle, ST=WA, C=US"
WAITING = "waiting for the new Key Vault role assignment to take effect"
CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424"


def _spec(sandbox: SandboxHandle, signer_app: str, certificate: str, vault: str = VAULT) -> str:
    return f"""\
apiVersion: acr-reconcile/v1
kind: RegistryTrust
subscriptionId: {sandbox.subscription_id}
resourceGroup: {{name: {GROUP}, location: westeurope}}
registry: {{name: {REGISTRY}, sku: Premium}}
signers:
  - name: pipeline
    principal: {{appId: {signer_app}}}
    roles: [AcrPush, Key Vault Crypto User, Key Vault Certificate User]
notation:
  signingKey:
    keyVault: {{name: {vault}, certificate: {certificate}, subject: "{SUBJECT}"}}
"""


@pytest.fixture(scope="module")
def setting(sandbox: SandboxHandle) -> Iterator[str]:
    sandbox.reset_state()
    sandbox.settings(keyvault_rbac_delay=4, replication_lag=0.0)
    app, _, _ = sandbox.add_principal("notation-pipeline")
    yield app
    sandbox.settings(keyvault_rbac_delay=0)


@pytest.fixture
def cli(
    sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Cli:
    return cli_runner(sandbox.env(), monkeypatch, capsys)


def _certificate(sandbox: SandboxHandle, name: str) -> x509.Certificate:
    credential = sandbox.credential()
    vault = sandbox.keyvault_client(credential).vaults.get(GROUP, VAULT)
    client = CertificateClient(str(vault.properties.vault_uri), credential)
    try:
        made = client.get_certificate(name)
        policy = client.get_certificate_policy(name)
    finally:
        client.close()
        credential.close()
    assert policy.exportable is False and policy.key_size == 2048
    assert str(getattr(policy.key_type, "value", policy.key_type)) == "RSA"
    return x509.load_der_x509_certificate(bytes(made.cer))


def test_plan_apply_creates_vault_certificate_and_roles_then_plans_clean(
    setting: str, cli: Cli, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    spec = tmp_path / "notation.yaml"
    spec.write_text(_spec(sandbox, setting, "release"))

    planned = cli("plan", spec, "--detailed-exitcode")
    assert planned.code == 2, planned.text
    assert f"key vault {VAULT}" in planned.out
    assert "signing certificate release" in planned.out
    assert "Key Vault Crypto User for pipeline" in planned.out
    assert "Key Vault Crypto User for the identity running apply" in planned.out
    assert "Key Vault Certificates Officer for the identity running apply" in planned.out

    applied = cli("apply", spec, "--auto-approve")
    assert applied.code == 0, applied.text
    assert WAITING in applied.text  # the grants were held back and apply said so

    vault = sandbox.keyvault_client().vaults.get(GROUP, VAULT)
    assert vault.properties.enable_rbac_authorization is True
    assert vault.properties.enable_soft_delete is True
    leaf = _certificate(sandbox, "release")
    assert leaf.subject.rfc4514_string() == "CN=release,O=Contoso,L=Seattle,ST=WA,C=US"
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_encipherment
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CODE_SIGNING]
    with sdk(sandbox) as clients:
        at_vault = [
            a
            for a in clients.authorization.role_assignments.list_for_scope(str(vault.id))
            if (a.scope or "").lower() == str(vault.id).lower()
        ]
    signer_roles = {a.role_definition_id.rsplit("/", 1)[-1] for a in at_vault}
    assert CRYPTO_USER in signer_roles and len(at_vault) == 5  # 2 signer + 3 caller roles

    sandbox.clear_requests()
    again = cli("plan", spec, "--detailed-exitcode")
    assert again.code == 0, again.text
    reapplied = cli("apply", spec, "--auto-approve")
    assert reapplied.code == 0 and WAITING not in reapplied.text
    assert writes(sandbox.requests(arm_only=True)) == []


def test_a_run_that_needs_no_new_role_assignment_never_waits(
    setting: str, cli: Cli, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """A second certificate in the same vault: the caller already holds its roles."""
    spec = tmp_path / "second.yaml"
    spec.write_text(_spec(sandbox, setting, "release-two"))
    planned = cli("plan", spec, "--output", "json")
    assert planned.code == 0, planned.text
    assert '"wait_for_roles": false' in planned.out
    assert '"format_version": "1.4"' in planned.out
    applied = cli("apply", spec, "--auto-approve")
    assert applied.code == 0, applied.text
    assert WAITING not in applied.text
    assert _certificate(sandbox, "release-two").subject.rfc4514_string().startswith("CN=release,")


def test_a_saved_plan_applied_by_an_identity_without_key_vault_roles_is_refused(
    setting: str,
    sandbox: SandboxHandle,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """The plan grants the planner the roles it needs to create the certificate and sign;
    another identity (an Owner of the subscription, but without Key Vault Crypto User on
    the vault) applying that plan is refused before the first write, naming the roles."""
    from azure.mgmt.authorization.models import RoleAssignmentCreateParameters

    app, object_id, secret = sandbox.add_principal("other-pipeline")
    owner = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
    subscription = f"/subscriptions/{sandbox.subscription_id}"
    with sdk(sandbox) as clients:
        clients.authorization.role_assignments.create(
            subscription,
            "5d7c1c1e-0000-4000-8000-00000000000e",
            RoleAssignmentCreateParameters(
                role_definition_id=f"{subscription}/providers/Microsoft.Authorization/roleDefinitions/{owner}",
                principal_id=object_id,
                principal_type="ServicePrincipal",
            ),
        )
    spec = tmp_path / "third.yaml"
    spec.write_text(_spec(sandbox, setting, "release-three"))
    saved = tmp_path / "third.plan"
    planned = cli_runner(sandbox.env(), monkeypatch, capsys)("plan", spec, "--out", saved)
    assert planned.code == 0, planned.text

    other = sandbox.env() | {"AZURE_CLIENT_ID": app, "AZURE_CLIENT_SECRET": secret}
    sandbox.clear_requests()
    refused = cli_runner(other, monkeypatch, capsys)("apply", saved, "--auto-approve")
    assert refused.code == 1, refused.text
    assert "needs Key Vault roles this saved plan does not grant" in refused.err
    assert f"Key Vault Crypto User for the identity running apply ({object_id})" in refused.err
    assert "nothing was changed" in refused.err
    assert secret not in refused.text
    assert writes(sandbox.requests()) == []


def test_a_soft_deleted_vault_of_that_name_is_a_plan_error_naming_recover_and_purge(
    setting: str, cli: Cli, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    body = {
        "location": "westeurope",
        "properties": {"tenantId": sandbox.tenant_id, "sku": {"family": "A", "name": "standard"}},
    }
    vaults = sandbox.keyvault_client().vaults
    vaults.begin_create_or_update(GROUP, "kv-deleted-e2e", body).result()
    vaults.delete(GROUP, "kv-deleted-e2e")
    spec = tmp_path / "deleted.yaml"
    spec.write_text(_spec(sandbox, setting, "release", vault="kv-deleted-e2e"))
    sandbox.clear_requests()
    planned = cli("plan", spec)
    assert planned.code == 1, planned.text
    assert "kv-deleted-e2e was deleted and is kept in deleted state until" in planned.err
    assert "az keyvault recover" in planned.err and f"{spec}:" in planned.err
    assert writes(sandbox.requests(arm_only=True)) == []
