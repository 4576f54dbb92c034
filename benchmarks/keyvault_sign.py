"""How many Key Vault ``sign`` requests per second the sandbox's vault data plane serves.

Starts a sandbox of its own (temporary state dir, Key Vault limits off: Azure's own limit,
4,000 RSA-2048 or EC transactions per 10 s per vault, is below the target), creates a vault
and an EC P-256 and an RSA-2048 key through the real clients, takes one real Entra token
for the challenge's resource, then drives ``POST /keys/{name}/{version}/sign`` over 8
keep-alive HTTPS connections (``KV_BENCH_CONNECTIONS``) to
``https://<vault>.vault.localhost:<port>`` for a fixed time per algorithm, three times
each (``KV_BENCH_RUNS``) alternating with the baseline, and reports the median run: the
VM's speed drifts by a third within minutes (the bare RSA primitive, measured in the
same run, shows by how much). Target: at least 1,000 signs/s on a 2-core machine. An
ARM GET on the same sandbox is the baseline: the sign path should cost about what the
lightest ARM request costs plus the signature itself.
Run: ``python -m benchmarks keyvault_sign``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import ssl
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks._cpu import cores, process_seconds
from benchmarks._load import drive
from benchmarks._sandbox import run_on_private_sandbox

DURATION_SECONDS = float(os.environ.get("KV_BENCH_SECONDS", "5"))
RUNS = int(os.environ.get("KV_BENCH_RUNS", "3"))
CONNECTIONS = int(os.environ.get("KV_BENCH_CONNECTIONS", "8"))
TARGET_PER_SECOND = 1000
ADMINISTRATOR = "00482a5a-887f-4fb3-b363-3b7fe8e74483"


@dataclass(frozen=True)
class Measured:
    rate: float  # answers per second
    errors: int
    server_ms: float  # the daemon's CPU per answer
    client_ms: float  # the load generator's CPU per answer (this process)

    @property
    def ceiling(self) -> float:
        """Answers per second if the machine's cores did nothing else: each answer costs
        the daemon's CPU plus the client's, on the same cores (the load does not change
        these per-answer costs much, so this holds on a busy machine too)."""
        return 1000 * cores() / (self.server_ms + self.client_ms)


def _measured(
    pid: int, url: str, token: str, body: bytes | None, context: ssl.SSLContext
) -> Measured:
    """The rate, and the CPU each answer cost on both sides of the connection: the rate
    depends on what else the shared machine runs, the CPU per answer much less."""
    before, client_before = process_seconds(pid), time.process_time()
    load = drive(url, token, context, connections=CONNECTIONS, seconds=DURATION_SECONDS, body=body)
    used, client_used = process_seconds(pid) - before, time.process_time() - client_before
    answers = max(1, load.done)
    return Measured(load.rate, load.errors, 1000 * used / answers, 1000 * client_used / answers)


def _local_rate(kind: str, threads: int = 1) -> float:
    """Signatures per second of the bare primitive (no HTTP), for the same key type, on
    ``threads`` threads at once (``cryptography`` releases the GIL while OpenSSL signs,
    so two threads use two cores)."""
    from concurrent.futures import ThreadPoolExecutor

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

    digest = hashlib.sha256(b"bench").digest()
    prehashed = utils.Prehashed(hashes.SHA256())
    if kind == "EC":
        ec_key = ec.generate_private_key(ec.SECP256R1())

        def one() -> None:
            ec_key.sign(digest, ec.ECDSA(prehashed))
    else:
        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pss = padding.PSS(padding.MGF1(hashes.SHA256()), 32)

        def one() -> None:
            rsa_key.sign(digest, pss, prehashed)

    started = time.perf_counter()

    def loop() -> int:
        count = 0
        while time.perf_counter() - started < 1.0:
            one()
            count += 1
        return count

    with ThreadPoolExecutor(threads) as pool:
        total = sum(pool.map(lambda _: loop(), range(threads)))
    return total / (time.perf_counter() - started)


def _bench(handle: Any, _work: Path) -> None:
    from azure.keyvault.keys import KeyClient
    from azure.mgmt.authorization.models import RoleAssignmentCreateParameters

    handle.settings(keyvault_rbac_delay=0.0, keyvault_throttle={"enabled": False})
    handle.clients().resources.resource_groups.create_or_update("bench", {"location": "eastus"})
    vault = (
        handle.keyvault_client()
        .vaults.begin_create_or_update(
            "bench",
            "kvbench01",
            {
                "location": "eastus",
                "properties": {
                    "tenantId": handle.tenant_id,
                    "sku": {"family": "A", "name": "standard"},
                },
            },
        )
        .result()
    )
    definition = (
        f"/subscriptions/{handle.subscription_id}/providers/Microsoft.Authorization/"
        f"roleDefinitions/{ADMINISTRATOR}"
    )
    handle.clients().authorization.role_assignments.create(
        str(vault.id),
        str(uuid.uuid4()),
        RoleAssignmentCreateParameters(
            role_definition_id=definition,
            principal_id=handle.state()["owner"]["objectId"],
            principal_type="ServicePrincipal",
        ),
    )
    url = str(vault.properties.vault_uri).rstrip("/")
    credential = handle.credential()
    keys = KeyClient(url, credential, connection_verify=handle.ca_bundle)
    ec_key = keys.create_ec_key("bench-ec", curve="P-256")
    rsa_key = keys.create_rsa_key("bench-rsa", size=2048)
    resource = url.split("://", 1)[1].split(".", 1)[1]
    token = credential.get_token(f"https://{resource}/.default").token
    context = ssl.create_default_context(cafile=handle.ca_bundle)
    arm_token = credential.get_token("https://management.azure.com/.default").token
    arm_url = f"{handle.arm_url}/subscriptions/{handle.subscription_id}/resourcegroups/bench"
    handle.settings(throttle={"enabled": False})
    pid = int((handle.state_dir / "daemon.pid").read_text())
    digest = base64.urlsafe_b64encode(hashlib.sha256(b"bench").digest()).rstrip(b"=").decode()
    targets = {
        "ARM": (f"{arm_url}?api-version=2025-04-01", arm_token, None),
        **{
            alg: (
                f"{key.id}/sign?api-version=2025-07-01",
                token,
                json.dumps({"alg": alg, "value": digest}).encode(),
            )
            for alg, key in (("ES256", ec_key), ("PS256", rsa_key))
        },
    }
    runs: dict[str, list[Measured]] = {name: [] for name in targets}
    for _ in range(RUNS):  # alternated, so a busy moment of the machine hits each alike
        for name, (url, bearer, body) in targets.items():
            runs[name].append(_measured(pid, url, bearer, body, context))
    arm = _median(runs["ARM"])
    print(
        f"baseline in this run: ARM GET resource group {arm.rate:,.0f} requests/s (median of "
        f"{RUNS}; {_spread(runs['ARM'])}), {arm.server_ms:.2f} ms of sandbox CPU and "
        f"{arm.client_ms:.2f} ms of client CPU each"
    )
    for alg, kind in (("ES256", "EC"), ("PS256", "RSA")):
        sign = _median(runs[alg])
        verdict = "meets" if sign.rate >= TARGET_PER_SECOND else "BELOW"
        print(
            f"key vault sign {alg}: {sign.rate:,.0f} requests/s (median of {RUNS} runs of "
            f"{DURATION_SECONDS:.0f} s; {_spread(runs[alg])}) with {CONNECTIONS} keep-alive "
            f"connections ({sign.errors} errors); {verdict} the "
            f"{TARGET_PER_SECOND:,}/s target; {sign.rate / arm.rate:.0%} of the ARM GET "
            f"baseline; {sign.server_ms:.2f} ms of sandbox CPU + {sign.client_ms:.2f} ms of "
            f"client CPU each, so at most {sign.ceiling:,.0f}/s on {cores()} otherwise idle "
            f"cores (the bare {kind} primitive alone: {_local_rate(kind):,.0f}/s on one "
            f"thread, {_local_rate(kind, cores()):,.0f}/s on {cores()})"
        )
    product = _product_client(pid, str(rsa_key.id), credential, handle.ca_bundle)
    print(
        f"key vault sign PS256 through azure-keyvault-keys' CryptographyClient (the "
        f"product's signer), {CONNECTIONS} threads: {product.rate:,.0f} signs/s; "
        f"{product.server_ms:.2f} ms of sandbox CPU + {product.client_ms:.2f} ms of client "
        f"CPU each, so at most {product.ceiling:,.0f}/s on {cores()} otherwise idle cores"
    )


def _median(runs: list[Measured]) -> Measured:
    """The run with the median rate (its own CPU figures with it)."""
    return sorted(runs, key=lambda m: m.rate)[len(runs) // 2]


def _spread(runs: list[Measured]) -> str:
    rates = sorted(m.rate for m in runs)
    return f"{rates[0]:,.0f}–{rates[-1]:,.0f}/s"


def _product_client(pid: int, key_id: str, credential: Any, ca_bundle: str) -> Measured:
    """PS256 signs the way the product's KeyVaultSigner makes them: azure-keyvault-keys'
    CryptographyClient with its default settings (sync pipeline, challenge auth), one
    per thread on CONNECTIONS threads; what the client costs decides how much of the
    two cores is left for the sandbox."""
    from concurrent.futures import ThreadPoolExecutor

    from azure.keyvault.keys.crypto import CryptographyClient, SignatureAlgorithm

    digest = hashlib.sha256(b"bench").digest()
    clients = [
        CryptographyClient(key_id, credential, connection_verify=ca_bundle)
        for _ in range(CONNECTIONS)
    ]
    for client in clients:  # the challenge round trip and the token, before measuring
        client.sign(SignatureAlgorithm.ps256, digest)
    before, client_before = process_seconds(pid), time.process_time()
    started = time.perf_counter()
    deadline = started + DURATION_SECONDS

    def loop(client: Any) -> int:
        done = 0
        while time.perf_counter() < deadline:
            client.sign(SignatureAlgorithm.ps256, digest)
            done += 1
        return done

    with ThreadPoolExecutor(CONNECTIONS) as pool:
        done = max(1, sum(pool.map(loop, clients)))
    elapsed = time.perf_counter() - started
    used, client_used = process_seconds(pid) - before, time.process_time() - client_before
    for client in clients:
        client.close()
    return Measured(done / elapsed, 0, 1000 * used / done, 1000 * client_used / done)


def main() -> None:
    run_on_private_sandbox("kv-bench", _bench)


if __name__ == "__main__":
    main()
