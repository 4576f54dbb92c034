"""A fleet plan reads in batches: per subscription one list of resource groups, the pages
of one list of registries and one list of role assignments, never a GET per registry."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from acr_sandbox.testing import SandboxHandle
from tests.e2e.plan_apply_support import Cli, cli_runner, sdk, writes

pytestmark = pytest.mark.e2e

FLEET, PAGE = 25, 10
SIGNER_APP_ID = "11111111-1111-1111-1111-111111111111"


def _fleet_spec(subscription: str, directory: Path) -> Path:
    documents = [
        f"""apiVersion: acr-reconcile/v1
kind: RegistryTrust
subscriptionId: {subscription}
resourceGroup: {{name: fleet, location: westeurope}}
registry: {{name: fleet{i:03d}, sku: Basic}}
signers:
  - name: DavidServiceAccount
    principal: {{appId: {SIGNER_APP_ID}}}
    roles: [AcrPush]
"""
        for i in range(FLEET)
    ]
    spec = directory / "fleet.yaml"
    spec.write_text("---\n".join(documents))
    return spec


@pytest.fixture
def cli(
    sandbox: SandboxHandle,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Cli:
    sandbox.reset_state()
    return cli_runner(sandbox.env(), monkeypatch, capsys)


def _seed_half(sandbox: SandboxHandle) -> None:
    from azure.mgmt.containerregistry.models import Registry, Sku

    with sdk(sandbox) as clients:
        clients.resources.resource_groups.create_or_update("fleet", {"location": "westeurope"})

        def create(i: int) -> None:
            body = Registry(location="westeurope", sku=Sku(name="Basic"))
            clients.registries.registries.begin_create("fleet", f"fleet{i:03d}", body).result()

        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(create, range(0, FLEET, 2)))


def _arm_reads(entries: list[dict[str, str]]) -> Counter[str]:
    kinds: Counter[str] = Counter()
    for entry in entries:
        path = entry["path"].rstrip("/").lower()
        if path.startswith("/subscriptions"):
            kinds[f"{entry['method']} {path.rsplit('/', 1)[-1]}"] += 1
    return kinds


def test_fleet_plan_lists_per_subscription_and_checks_only_missing_names(
    cli: Cli, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    _seed_half(sandbox)
    spec = _fleet_spec(sandbox.subscription_id, tmp_path)
    sandbox.settings(page_size=PAGE)
    try:
        sandbox.clear_requests()
        plan = cli("plan", spec, "--detailed-exitcode", "--parallelism", "4")
    finally:
        sandbox.settings(page_size=20)
    assert plan.code == 2, plan.text
    reads = _arm_reads(sandbox.requests())
    missing = FLEET // 2
    assert reads == {
        "GET resourcegroups": 1,
        "GET registries": -(-(FLEET - missing) // PAGE),
        "GET roleassignments": 1,
        "POST checknameavailability": missing,
    }
    assert writes(sandbox.requests()) == []
    assert plan.out.count("+ registry fleet") == missing
