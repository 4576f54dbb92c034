"""Requests and wall time of ``plan``: the walkthrough spec, and a 200-registry fleet with
30 ms of injected latency per request, read batched (one list per kind per subscription)
against a per-resource-GET baseline reader run here on the same sandbox.

Target: the fleet plan needs O(subscriptions) list calls (pages of them), not
O(registries) GETs, and finishes in under 3 s. Run: ``python -m benchmarks plan_fleet``
from the repository root (it starts a sandbox of its own in a temporary directory).
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks._sandbox import run_on_private_sandbox

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FLEET = int(os.environ.get("PLAN_FLEET_SIZE", "200"))
LATENCY_MS = 30
PARALLELISM = 10
TARGET_SECONDS = 3.0
SIGNER_APP_ID = "11111111-1111-1111-1111-111111111111"
PUSH = "8311e382-0749-4cb8-b61a-304f252e45ec"


def _fleet_yaml(subscription: str, count: int) -> str:
    documents = []
    for i in range(count):
        documents.append(
            f"""apiVersion: acr-reconcile/v1
kind: RegistryTrust
subscriptionId: {subscription}
resourceGroup: {{name: fleet, location: westeurope}}
registry: {{name: fleet{i:04d}, sku: Basic, contentTrust: disabled, adminUserEnabled: false}}
signers:
  - name: DavidServiceAccount
    principal: {{appId: {SIGNER_APP_ID}}}
    roles: [AcrPush]
"""
        )
    return "---\n".join(documents)


def _seed_fleet(handle: Any, count: int) -> None:
    """The fleet as an earlier apply left it: registries and their AcrPush assignments."""
    from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters
    from azure.mgmt.containerregistry.models import Registry, Sku

    from acr_reconcile.plan.names import role_assignment_name

    clients = handle.clients()
    sub = handle.subscription_id
    clients.resources.resource_groups.create_or_update("fleet", {"location": "westeurope"})
    signer = next(
        p for p in handle.state()["principals"].values() if p.get("appId") == SIGNER_APP_ID
    )
    role = f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{PUSH}"

    def one(i: int) -> None:
        body = Registry(location="westeurope", sku=Sku(name="Basic"))
        reg = clients.registries.registries.begin_create("fleet", f"fleet{i:04d}", body).result()
        params = RoleAssignmentCreateParameters(
            role_definition_id=role,
            principal_id=signer["id"],
            principal_type="ServicePrincipal",
        )
        name = role_assignment_name(reg.id, signer["id"], PUSH)
        clients.authorization.role_assignments.create(reg.id, name, params)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, range(count)))
    for client in (clients.resources, clients.registries, clients.authorization):
        client.close()


def baseline_read(documents: Sequence[Any], connection: Any) -> Any:
    """What a reader without batching does: per document a GET of the resource group and of
    the registry, a list of role assignments at the registry, a Graph lookup per signer."""
    from acr_reconcile.live import arm
    from acr_reconcile.live.graph import resolve
    from acr_reconcile.live.state import LiveRegistryData, LiveState

    session = connection.session

    def one(doc: Any) -> tuple[Any, ...]:
        spec, sub = doc.spec, doc.spec.subscription_id.lower()
        rm, acr = session.resources(sub), session.registries(sub)
        group = arm.parse_resource_group(rm.resource_groups.get(spec.resource_group.name))
        reg = arm.parse_registry(acr.registries.get(spec.resource_group.name, spec.registry.name))
        client = session.authorization(sub)
        assignments = tuple(
            arm.parse_role_assignment(a) for a in client.role_assignments.list_for_scope(reg.id)
        )
        principals = {
            s.principal.key: resolve(connection.graph, s.principal, str(s.principal_type))
            for s in spec.signers
        }
        return sub, group, reg, assignments, principals

    with ThreadPoolExecutor(max_workers=PARALLELISM) as pool:
        results = list(pool.map(one, documents))
    state = LiveState()
    for sub, group, reg, assignments, principals in results:
        state.resource_groups[(sub, group.name.lower())] = group
        state.registries[(sub, reg.name.lower())] = LiveRegistryData(reg, assignments)
        state.principals.update(principals)
    return state


def _measure(handle: Any, label: str, read: Callable[[Any], Any], documents: Any) -> list[str]:
    from acr_reconcile.commands.connection import connect
    from acr_reconcile.plan.planner import plan

    handle.clear_requests()
    started = time.perf_counter()
    with connect() as connection:
        live = read(connection)
        result = plan(documents, live, connection.rules)
    seconds = time.perf_counter() - started
    log = handle.requests()
    kinds = Counter(_kind(e) for e in log)
    changes = len(result.pending)
    return [label, str(len(log)), _show(kinds), str(changes), f"{seconds:.2f}"]


def _kind(entry: dict[str, Any]) -> str:
    path = entry["path"].rstrip("/").lower()
    if "/oauth2/" in path or "openid" in path or "metadata" in path:
        return "auth"
    if path.startswith("/v1.0"):
        return "graph"
    tail = path.rsplit("/", 2)
    is_list = tail[-1] in ("resourcegroups", "registries", "roleassignments")
    return "list" if is_list else entry["method"].lower()


def _show(kinds: Counter[str]) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(kinds.items()))


def _table(rows: list[list[str]]) -> None:
    head = ["scenario", "ARM/Entra/Graph requests", "by kind", "pending", "wall s"]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    for row in [head, ["-" * w for w in widths], *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))


def _apply_walkthrough(handle: Any, work: Path) -> Any:
    """The walkthrough applied (its image imported from a sandbox registry and signed)."""
    import contextlib
    import io

    from acr_reconcile.cli import main as cli
    from acr_reconcile.spec.loader import load_paths
    from tests.e2e.plan_apply_support import make_walkthrough

    walkthrough = make_walkthrough(handle, work)
    os.environ.update(walkthrough.env)
    with contextlib.redirect_stdout(io.StringIO()):
        if cli(["apply", str(walkthrough.spec), "--auto-approve"]) != 0:
            raise RuntimeError("the walkthrough did not apply")
    return load_paths([walkthrough.spec])


def main() -> None:
    run_on_private_sandbox("bench-plan", _run)


def _run(handle: Any, work: Path) -> None:
    from acr_reconcile.live.reader import read_live
    from acr_reconcile.spec.loader import load_paths, load_text

    os.environ.update(handle.env())
    handle.settings(replication_lag=0.0, throttle={"enabled": False})

    def batched(documents: Any) -> Callable[[Any], Any]:
        return lambda c: read_live(documents, c.session, c.graph, parallelism=PARALLELISM)

    walkthrough = load_paths([ROOT / "examples" / "hello-world.yaml"])
    rows = [_measure(handle, "walkthrough (empty sandbox)", batched(walkthrough), walkthrough)]
    applied = _apply_walkthrough(handle, work)
    rows.append(
        _measure(
            handle,
            "walkthrough (applied, with data plane)",
            lambda c: read_live(
                applied,
                c.session,
                c.graph,
                parallelism=PARALLELISM,
                images=c.data_plane().read,
                signing=c.data_plane().readiness(),
            ),
            applied,
        )
    )
    handle.reset_state()
    _seed_fleet(handle, FLEET)
    fleet = load_text(_fleet_yaml(handle.subscription_id, FLEET), "fleet.yaml")
    handle.set_faults([{"method": ".*", "path": ".*", "latencyMs": LATENCY_MS}])
    label = f"{FLEET} registries, {LATENCY_MS} ms/request"
    rows.append(_measure(handle, f"{label}, batched", batched(fleet), fleet))
    rows.append(
        _measure(handle, f"{label}, per-resource GETs", lambda c: baseline_read(fleet, c), fleet)
    )
    handle.clear_faults()
    _table(rows)
    print(
        f"\ntarget: batched fleet plan under {TARGET_SECONDS:.0f} s with O(subscriptions) "
        f"list calls (registries page {handle.settings()['pageSize']} per request)"
    )
