"""How many simple ARM GETs per second the sandbox serves over keep-alive HTTPS.

Starts a sandbox of its own (temporary state dir, free port, throttling off), takes one
real Entra token from it, then drives ``GET …/resourcegroups/{rg}`` from a few concurrent
keep-alive connections for a fixed time. The figure shows that benchmarks of the tool
measure the tool: the emulator is not the bottleneck (target: at least 1,000 GETs/s on a
2-core machine). Run: ``python -m benchmarks arm_throughput``.
"""

from __future__ import annotations

import json
import os
import ssl
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

from benchmarks._load import drive

DURATION_SECONDS = float(os.environ.get("ARM_BENCH_SECONDS", "5"))
CONNECTIONS = int(os.environ.get("ARM_BENCH_CONNECTIONS", "8"))
TARGET_PER_SECOND = 1000


def _token(env: dict[str, str], context: ssl.SSLContext) -> str:
    url = f"{env['AZURE_AUTHORITY_HOST']}/{env['AZURE_TENANT_ID']}/oauth2/v2.0/token"
    form = urllib.parse.urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": env["AZURE_CLIENT_ID"],
            "client_secret": env["AZURE_CLIENT_SECRET"],
            "scope": "https://management.azure.com/.default",
        }
    ).encode()
    with urllib.request.urlopen(url, data=form, context=context, timeout=10) as response:
        return str(json.loads(response.read())["access_token"])


def main() -> None:
    from acr_sandbox import process
    from acr_sandbox.environment import env_vars

    with tempfile.TemporaryDirectory(prefix="arm-bench-") as tmp:
        state_dir = Path(tmp)
        process.start(state_dir)
        try:
            process.admin(state_dir, "POST", "/_sandbox/settings", {"throttle": {"enabled": False}})
            env = env_vars(state_dir)
            context = ssl.create_default_context(cafile=env["REQUESTS_CA_BUNDLE"])
            token = _token(env, context)
            base = f"{env['AZURE_AUTHORITY_HOST']}/subscriptions/{env['AZURE_SUBSCRIPTION_ID']}"
            _put_group(f"{base}/resourcegroups/bench?api-version=2025-04-01", token, context)
            url = f"{base}/resourcegroups/bench?api-version=2025-04-01"
            load = drive(url, token, context, connections=CONNECTIONS, seconds=DURATION_SECONDS)
            done, errors, elapsed = load.done, load.errors, load.elapsed
        finally:
            process.stop(state_dir)
    rate = done / elapsed
    verdict = "meets" if rate >= TARGET_PER_SECOND else "BELOW"
    print(
        f"arm GET resource group: {rate:,.0f} requests/s over {elapsed:.1f} s with "
        f"{CONNECTIONS} keep-alive connections ({done:,} ok, {errors} errors); "
        f"{verdict} the {TARGET_PER_SECOND:,}/s target"
    )


def _put_group(url: str, token: str, context: ssl.SSLContext) -> None:
    request = urllib.request.Request(
        url,
        data=json.dumps({"location": "westeurope"}).encode(),
        method="PUT",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, context=context, timeout=10):
        pass


if __name__ == "__main__":
    main()
