"""Wall time of ``apply`` for a 200-registry fleet under ARM's real throttling, against the
minimum those token buckets allow.

The fleet (one subscription, one resource group) is generated in a temporary dir: every
registry gets AcrPush for one signer; every other one is Premium with content trust
enabled (legacy rules) and AcrImageSigner for a second signer. The run is the real CLI
(`apply DIR --auto-approve`) against a private sandbox with throttling at Azure's rates:
reads 250 burst, 25/s; writes and deletes 200 burst, 10/s each, per subscription.

Theoretical minimum, from the requests the apply needed (the sandbox's request log, 429
answers left out): with R reads and W writes, both buckets full at the start,

    t_min = max(0, (R - 250) / 25, (W - 200) / 10)   seconds

The ratio wall / t_min says how close the tool's retry and concurrency come to it. A
baseline row runs the same apply with throttling off. Run: ``python -m benchmarks
apply_fleet`` (``APPLY_FLEET_SIZE`` changes the fleet size).
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks._sandbox import run_on_private_sandbox

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FLEET = int(os.environ.get("APPLY_FLEET_SIZE", "200"))
RATES = {"reads": (250, 25.0), "writes": (200, 10.0), "deletes": (200, 10.0)}
SIGNER_APP_ID = "11111111-1111-1111-1111-111111111111"


def fleet_yaml(subscription: str, count: int, second_signer: str) -> str:
    documents = []
    for i in range(count):
        trusted = i % 2 == 0
        signers = f"""  - name: pusher
    principal: {{appId: {SIGNER_APP_ID}}}
    roles: [AcrPush]
"""
        if trusted:
            signers += f"""  - name: signer
    principal: {{appId: {second_signer}}}
    roles: [AcrImageSigner]
"""
        sku, trust = ("Premium", "enabled") if trusted else ("Standard", "disabled")
        documents.append(
            f"""apiVersion: acr-reconcile/v1
kind: RegistryTrust
subscriptionId: {subscription}
resourceGroup: {{name: applyfleet, location: westeurope}}
registry: {{name: applyfleet{i:04d}, sku: {sku}, contentTrust: {trust}}}
signers:
{signers}"""
        )
    return "---\n".join(documents)


def _kind(method: str) -> str:
    return {"GET": "reads", "HEAD": "reads", "DELETE": "deletes"}.get(method, "writes")


def _needed(log: list[dict[str, Any]]) -> Counter[str]:
    """ARM requests the apply needed, by bucket; throttled (429) answers do not count."""
    arm = [e for e in log if e["path"].lower().startswith("/subscriptions")]
    return Counter(_kind(e["method"]) for e in arm if e["status"] != 429)


def t_min(needed: Counter[str]) -> float:
    return max(
        [0.0] + [max(0.0, (needed[k] - burst) / refill) for k, (burst, refill) in RATES.items()]
    )


def _apply(handle: Any, spec_dir: Path) -> tuple[float, Counter[str], int, int]:
    from acr_reconcile.cli import main as cli

    handle.reset_state()
    handle.clear_requests()
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = cli(["apply", str(spec_dir), "--auto-approve"])
    wall = time.perf_counter() - started
    if code != 0:
        raise RuntimeError(f"the fleet apply exited {code}")
    log = handle.requests()
    throttled = sum(1 for e in log if e["status"] == 429)
    return wall, _needed(log), throttled, code


def _check_converged(spec_dir: Path) -> None:
    from acr_reconcile.cli import main as cli

    with contextlib.redirect_stdout(io.StringIO()):
        if cli(["plan", str(spec_dir), "--detailed-exitcode"]) != 0:
            raise RuntimeError("the fleet did not converge")


def _row(
    label: str, wall: float, needed: Counter[str], throttled: int, limited: bool = True
) -> list[str]:
    """One table row; without throttling there is no rate floor, so no t_min or ratio."""
    minimum = t_min(needed)
    counts = f"{needed['reads']} / {needed['writes']} / {needed['deletes']}"
    if not limited or minimum <= 0:
        return [label, counts, str(throttled), "-", f"{wall:.1f}", "-"]
    ratio = f"{wall / minimum:.2f}"
    return [label, counts, str(throttled), f"{minimum:.1f}", f"{wall:.1f}", ratio]


def _table(rows: list[list[str]]) -> None:
    head = ["run", "reads / writes / deletes", "429s", "t_min s", "wall s", "wall/t_min"]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    for row in [head, ["-" * w for w in widths], *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))


def main() -> None:
    run_on_private_sandbox("bench-apply", _run)


def _run(handle: Any, work: Path) -> None:
    os.environ.update(handle.env() | {"DOCKER_CONFIG": str(work / "docker")})
    app_id, _, _ = handle.add_principal("FleetSigner")
    handle.settings(replication_lag=0.0)
    specs = work / "fleet"
    specs.mkdir()
    (specs / "fleet.yaml").write_text(fleet_yaml(handle.subscription_id, FLEET, app_id))
    rows = []
    handle.settings(throttle={"enabled": True})
    wall, needed, throttled, _ = _apply(handle, specs)
    _check_converged(specs)
    rows.append(_row(f"{FLEET} registries, real throttling", wall, needed, throttled))
    handle.settings(throttle={"enabled": False})
    wall, needed, throttled, _ = _apply(handle, specs)
    rows.append(_row(f"{FLEET} registries, throttling off", wall, needed, throttled, False))
    _table(rows)
    print(
        "\nt_min = max(0, (reads - 250) / 25, (writes - 200) / 10, (deletes - 200) / 10) s, "
        "from the ARM requests the apply needed (429 answers excluded); buckets start full"
    )
