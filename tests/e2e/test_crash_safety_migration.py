"""A migration from DCT to Notation killed (SIGKILL) after every write it makes, then run
again: the killed run never leaves content trust disabled unless every carried signature
exists and verifies, and the rerun ends where an uninterrupted migration ends (trust
disabled, every DCT-signed digest with a trusted Notation signature, plan clean).

The writes are those an uninterrupted migration sends (ARM writes, the Key Vault
certificate create, the registry pushes of the signature), read from the sandbox's request
log. Runs go one action at a time (``--parallelism 1``) and every write of a killed run
waits a little in the sandbox, so a kill after the k-th completed write lands before the
next one is answered. Each kill point starts from a fresh legacy registry that Azure's
DCT walkthrough signed; the killed run and its rerun share the key store and the
inventory file, as a pipeline's job keeps its workspace.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from acr_sandbox.testing import SandboxHandle
from tests.e2e.pipeline_support import WALKTHROUGH, Result, tool, user_env
from tests.e2e.plan_apply_support import REGISTRY, RG, sdk, writes

pytestmark = pytest.mark.e2e

GATE_MS = 200
GATES = [
    {"method": "PUT|PATCH|DELETE|POST", "path": r"^/subscriptions/(?!.*checkNameAvailability)"},
    {"plane": "data", "method": "PUT|POST|PATCH|DELETE", "path": r"^/(v2/|certificates/)"},
]
MIGRATION = """apiVersion: acr-reconcile/v1
kind: RegistryTrust
subscriptionId: {sub}
resourceGroup: {{name: resourcegroupdavid, location: westeurope}}
registry: {{name: registrydavid, sku: Premium, contentTrust: disabled}}
notation:
  signingKey:
    keyVault:
      name: kv-crash
      certificate: release
      subject: "CN=release, O=Contoso, ST=WA, C=US"
signers:
  - name: DavidServiceAccount
    principal: {{displayName: DavidServiceAccount}}
    roles: [AcrImageSigner, AcrPush]
images:
  - repository: hello-world
    tags: [signed]
    sign: true
"""


def _run(env: dict[str, str], work: Path, *args: str | Path) -> Result:
    done = subprocess.run(
        tool(*args), env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
        timeout=300, cwd=work,
    )  # fmt: skip
    return Result(done.returncode, done.stdout, done.stderr)


def _performed(entries: list[dict[str, Any]]) -> list[str]:
    """Writes that took effect (answered below 400): ARM's, the certificate create and
    the registry pushes (ACR's token exchanges and Key Vault's sign are not writes)."""
    found = []
    for entry in entries:
        if entry["status"] >= 400:
            continue
        method, path = entry["method"], entry["path"]
        if entry.get("plane") == "data":
            if method in {"PUT", "POST", "PATCH", "DELETE"} and (
                path.startswith("/v2/") or path.endswith("/create")
            ):
                found.append(f"{method} {path}")
        else:
            found += writes([entry])
    return found


def _trust(sandbox: SandboxHandle) -> str:
    with sdk(sandbox) as clients:
        policies = clients.registries.registries.get(RG, REGISTRY).policies
    return str(policies.trust_policy.status.value).lower()


@dataclass(frozen=True)
class Legacy:
    env: dict[str, str]
    spec: Path
    inventory: Path


def _legacy(sandbox: SandboxHandle, work: Path) -> Legacy:
    """A fresh legacy registry signed by the DCT walkthrough, and its migration document."""
    sandbox.reset_state()
    sandbox.settings(dct="legacy", replication_lag=0.0)
    env = user_env(sandbox, work)
    signed = _run(env, work, "apply", WALKTHROUGH, "--auto-approve")
    assert signed.code == 0, signed.text
    spec = work / "migrate.yaml"
    spec.write_text(MIGRATION.format(sub=sandbox.subscription_id))
    return Legacy(env, spec, work / "inventory.json")


def _migrate(legacy: Legacy) -> list[str]:
    return tool(
        "apply", legacy.spec, "--auto-approve", "--allow-destroy-trust",
        "--parallelism", "1", "--dct-inventory", legacy.inventory,
    )  # fmt: skip


@pytest.fixture(scope="module")
def baseline(sandbox: SandboxHandle, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The writes of an uninterrupted migration, in order."""
    work = tmp_path_factory.mktemp("migration-baseline")
    legacy = _legacy(sandbox, work)
    sandbox.clear_requests()
    done = subprocess.run(
        _migrate(legacy), env=legacy.env, capture_output=True, text=True, cwd=work, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert _trust(sandbox) == "disabled"
    return _performed(sandbox.requests(data_plane=True))


def _kill_after(sandbox: SandboxHandle, legacy: Legacy, after: int, work: Path) -> bool:
    sandbox.clear_requests()
    sandbox.set_faults([gate | {"latencyMs": GATE_MS} for gate in GATES])
    with (work / "killed.log").open("w") as out:
        process = subprocess.Popen(
            _migrate(legacy), env=legacy.env, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, cwd=work,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 180
            while process.poll() is None and time.monotonic() < deadline:
                if len(_performed(sandbox.requests(data_plane=True))) >= after:
                    process.kill()
                    break
                time.sleep(0.02)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
    time.sleep(GATE_MS / 1000 + 0.3)  # let the held writes end
    sandbox.clear_faults()
    return process.returncode == -9


def _verified(legacy: Legacy, work: Path) -> Result:
    return _run(legacy.env, work, "verify", legacy.spec, "--dct-inventory", legacy.inventory)


def test_migration_killed_at_every_write_never_disables_trust_early_and_reruns_clean(
    baseline: list[str],
    sandbox: SandboxHandle,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert any(w.startswith("PATCH") and w.endswith(f"/registries/{REGISTRY}") for w in baseline)
    assert any("/manifests/sha256:" in w for w in baseline), baseline  # the signature pushed
    covered = []
    for after in range(1, len(baseline) + 1):
        work = tmp_path / f"kill-{after}"
        work.mkdir()
        legacy = _legacy(sandbox, work)
        killed = _kill_after(sandbox, legacy, after, work)
        assert killed or after == len(baseline), (work / "killed.log").read_text()
        where = f"killed after write {after} of {len(baseline)} ({baseline[after - 1]})"
        if _trust(sandbox) == "disabled":  # then every carried signature must verify now
            verified = _verified(legacy, work)
            assert verified.code == 0, f"{where}: trust disabled early\n{verified.text}"
        rerun = _run(legacy.env, work, *_migrate(legacy)[3:])
        assert rerun.code == 0, f"{where}: rerun failed\n{rerun.text}"
        assert _trust(sandbox) == "disabled", where
        assert _verified(legacy, work).code == 0, where
        clean = _run(
            legacy.env, work, "plan", legacy.spec, "--detailed-exitcode",
            "--dct-inventory", legacy.inventory,
        )  # fmt: skip
        assert clean.code == 0, f"{where}: not clean after the rerun\n{clean.text}"
        covered.append(f"{where}: converged")
    with capsys.disabled():
        print(f"\ncrash safety, migration: {len(covered)} kill points", *covered, sep="\n  ")
    assert len(covered) == len(baseline)
