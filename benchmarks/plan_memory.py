"""Peak memory of ``plan`` for a 2,000-registry fleet.

A private sandbox (throttling off) gets 2,000 registries through its ARM (the real SDK, a
few threads); the spec gives each one an AcrPush signer, so the plan reads every registry
and plans 2,000 role assignments. Two child processes measure, each from a cold start:

- ``rss``: the real CLI (`plan DIR --output json`), peak resident set (``ru_maxrss``);
- ``trace``: the same phases one by one under tracemalloc (spec load, live read, plan,
  text + JSON render): the peak of all Python allocations alive during each phase (what
  earlier phases keep counts too), with the SDK modules imported before tracing starts.

Run: ``python -m benchmarks plan_memory`` (``PLAN_MEMORY_FLEET`` changes the size).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks._sandbox import run_on_private_sandbox

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FLEET = int(os.environ.get("PLAN_MEMORY_FLEET", "2000"))
SIGNER_APP_ID = "11111111-1111-1111-1111-111111111111"
MIB = 1024 * 1024


def fleet_yaml(subscription: str, count: int) -> str:
    document = """apiVersion: acr-reconcile/v1
kind: RegistryTrust
subscriptionId: {sub}
resourceGroup: {{name: memfleet, location: westeurope}}
registry: {{name: memfleet{i:05d}, sku: Basic, contentTrust: disabled}}
signers:
  - name: pusher
    principal: {{appId: {app}}}
    roles: [AcrPush]
"""
    return "---\n".join(
        document.format(sub=subscription, i=i, app=SIGNER_APP_ID) for i in range(count)
    )


def _seed(handle: Any, count: int) -> float:
    from azure.mgmt.containerregistry.models import Registry, Sku

    started = time.perf_counter()
    clients = handle.clients()
    clients.resources.resource_groups.create_or_update("memfleet", {"location": "westeurope"})
    body = Registry(location="westeurope", sku=Sku(name="Basic"))

    def one(i: int) -> None:
        clients.registries.registries.begin_create("memfleet", f"memfleet{i:05d}", body).result()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, range(count)))
    handle.close_clients()
    return time.perf_counter() - started


# -- child processes ---------------------------------------------------------------------


def _child_rss(spec_dir: str) -> dict[str, Any]:
    from acr_reconcile.cli import main as cli

    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()) as out:
        code = cli(["plan", spec_dir, "--output", "json"])
    changes = len(json.loads(out.getvalue()).get("changes", [])) if code == 0 else -1
    return {
        "code": code,
        "seconds": time.perf_counter() - started,
        "maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "changes": changes,
    }


def _phase(peaks: dict[str, float], name: str, step: Callable[[], Any]) -> Any:
    tracemalloc.reset_peak()
    result = step()
    peaks[name] = tracemalloc.get_traced_memory()[1] / MIB
    return result


def _import_sdk() -> None:
    import azure.identity
    import azure.mgmt.authorization
    import azure.mgmt.containerregistry
    import azure.mgmt.resource.resources  # noqa: F401


def _child_trace(spec_dir: str) -> dict[str, Any]:
    from acr_reconcile.commands.connection import connect
    from acr_reconcile.commands.plan import load_documents, render
    from acr_reconcile.live.reader import read_live
    from acr_reconcile.plan.planner import plan

    _import_sdk()  # code is not data: modules are loaded before tracing starts
    tracemalloc.start()
    peaks: dict[str, float] = {}
    documents = _phase(peaks, "spec load", lambda: load_documents([spec_dir], None))
    with connect() as connection:
        live = _phase(
            peaks,
            "live read",
            lambda: read_live(documents, connection.session, connection.graph, parallelism=10),
        )
        result = _phase(peaks, "plan", lambda: plan(documents, live, connection.rules))
    _phase(peaks, "render", lambda: (render(result, "text"), render(result, "json")))
    return {"peaks_mib": peaks, "retained_mib": tracemalloc.get_traced_memory()[0] / MIB}


def _measure(mode: str, spec_dir: Path, env: dict[str, str]) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.plan_memory", f"--child-{mode}", str(spec_dir)]
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"the {mode} child failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    run_on_private_sandbox("bench-mem", _run)


def _run(handle: Any, work: Path) -> None:
    handle.settings(replication_lag=0.0, throttle={"enabled": False})
    seeded = _seed(handle, FLEET)
    specs = work / "fleet"
    specs.mkdir()
    (specs / "fleet.yaml").write_text(fleet_yaml(handle.subscription_id, FLEET))
    env = os.environ | handle.env() | {"DOCKER_CONFIG": str(work / "docker")}
    rss = _measure("rss", specs, env)
    if rss["code"] != 0:
        raise RuntimeError(f"plan exited {rss['code']}")
    trace = _measure("trace", specs, env)
    print(f"fleet: {FLEET} registries seeded through ARM in {seeded:.1f} s")
    print(
        f"plan (CLI, --output json): {rss['changes']} changes in {rss['seconds']:.1f} s, "
        f"peak RSS {rss['maxrss_mib']:.0f} MiB"
    )
    print("tracemalloc peak per phase (Python allocations, MiB):")
    for name, peak in trace["peaks_mib"].items():
        print(f"  {name:<10} {peak:8.1f}")
    print(f"  retained after render: {trace['retained_mib']:.1f} MiB")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] in ("--child-rss", "--child-trace"):
        child = _child_rss if sys.argv[1] == "--child-rss" else _child_trace
        print(json.dumps(child(sys.argv[2])))
    else:
        main()
