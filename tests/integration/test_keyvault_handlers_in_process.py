"""The Key Vault handlers on their own, against the sandbox served in this process.

Changes come from the real planner; clients from the tool's own ``connect``. The vault
is created with RBAC authorization and soft delete; the certificate create fails at once
on a 403 when the plan granted nothing, and waits (saying so) for a grant this apply made.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from acr_reconcile.apply.context import ApplyContext
from acr_reconcile.apply.handlers import HANDLERS
from acr_reconcile.azure.clients import RetryOptions
from acr_reconcile.commands.connection import Connection, connect
from acr_reconcile.commands.plan import load_documents, plan_documents
from acr_reconcile.errors import AzureError
from acr_reconcile.plan.model import Change, Kind, Plan, SigningCertificateParams
from acr_sandbox.testing import SandboxHandle

pytestmark = pytest.mark.e2e

RG, VAULT = "kvhandlersrg", "kv-handlers"
SUBJECT = "CN=release, O=Contoso, ST=WA, C=US"


def _spec(sandbox: SandboxHandle) -> str:
    return f"""\
apiVersion: acr-reconcile/v1
kind: RegistryTrust
subscriptionId: {sandbox.subscription_id}
resourceGroup: {{name: {RG}, location: westeurope}}
registry: {{name: kvhandlersreg, sku: Premium}}
notation:
  signingKey:
    keyVault: {{name: {VAULT}, certificate: release, subject: "{SUBJECT}"}}
"""


@pytest.fixture(scope="module")
def connection(sandbox_in_process: SandboxHandle) -> Iterator[Connection]:
    with pytest.MonkeyPatch.context() as patch:
        for key, value in sandbox_in_process.env().items():
            patch.setenv(key, value)
        with connect(retry=RetryOptions(polling_interval=0.0)) as connected:
            yield connected


@pytest.fixture
def planned(
    sandbox_in_process: SandboxHandle, connection: Connection, tmp_path: Path
) -> Iterator[Plan]:
    sandbox_in_process.reset_state()
    sandbox_in_process.settings(replication_lag=0.0, lro_retry_after=0, keyvault_rbac_delay=0)
    path = tmp_path / f"spec-{uuid.uuid4().hex[:8]}.yaml"
    path.write_text(_spec(sandbox_in_process))
    yield plan_documents(load_documents([str(path)], None), connection, 4).plan
    sandbox_in_process.settings(keyvault_rbac_delay=0)


def _run(change: Change, ctx: ApplyContext) -> str:
    return HANDLERS[change.kind]([change], ctx)


def _only(plan: Plan, kind: Kind) -> Change:
    (found,) = [c for c in plan.pending if c.kind is kind]
    return found


def test_vault_is_created_with_rbac_and_soft_delete_once(
    planned: Plan, connection: Connection, sandbox_in_process: SandboxHandle
) -> None:
    ctx = ApplyContext(session=connection.session)
    _run(_only(planned, Kind.RESOURCE_GROUP), ctx)
    vault = _only(planned, Kind.KEY_VAULT)
    assert _run(vault, ctx) == "created"
    live = sandbox_in_process.keyvault_client().vaults.get(RG, VAULT)
    assert live.properties.enable_rbac_authorization is True
    assert live.properties.enable_soft_delete is True
    assert str(live.properties.tenant_id) == sandbox_in_process.tenant_id
    assert _run(vault, ctx) == "already present"


def test_certificate_without_a_grant_fails_at_once_and_waits_after_one(
    planned: Plan, connection: Connection, sandbox_in_process: SandboxHandle
) -> None:
    said: list[str] = []
    ctx = ApplyContext(session=connection.session, say=said.append, key_vault_window=60)
    _run(_only(planned, Kind.RESOURCE_GROUP), ctx)
    _run(_only(planned, Kind.KEY_VAULT), ctx)
    certificate = _only(planned, Kind.SIGNING_CERTIFICATE)
    params = certificate.params_as(SigningCertificateParams)
    assert params.wait_for_roles is True  # the plan grants the caller its Key Vault roles

    ungranted = replace(certificate, params=replace(params, wait_for_roles=False))
    with pytest.raises(AzureError) as refused:
        _run(ungranted, ctx)
    assert refused.value.status == 403 and said == []

    sandbox_in_process.settings(keyvault_rbac_delay=3)
    for change in planned.pending:
        if change.kind is Kind.ROLE_ASSIGNMENT:
            _run(change, ctx)
    assert _run(certificate, ctx) == "created"
    assert said and all("waiting for the new Key Vault role assignment" in s for s in said)
    assert _run(certificate, ctx) == "already present"
