"""Fault injection and throttling, observed through the real SDK's retries and the
sandbox's request log."""

from __future__ import annotations

import gc
import warnings
from collections.abc import Iterator

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.containerregistry.models import Registry, Sku

from acr_sandbox.testing import SandboxHandle

DEFAULT_THROTTLE = {
    "enabled": True,
    "reads": {"capacity": 250, "refill": 25},
    "writes": {"capacity": 200, "refill": 10},
    "deletes": {"capacity": 200, "refill": 10},
}


@pytest.fixture()
def clean(sandbox: SandboxHandle) -> Iterator[SandboxHandle]:
    sandbox.reset_state()
    sandbox.clients().resources.resource_groups.create_or_update("rg", {"location": "westeurope"})
    sandbox.clear_requests()
    yield sandbox
    sandbox.clear_faults()
    sandbox.settings(throttle=DEFAULT_THROTTLE)


def _statuses(sandbox: SandboxHandle, method: str, suffix: str) -> list[int]:
    return [
        e["status"]
        for e in sandbox.requests(arm_only=True)
        if e["method"] == method and e["path"].lower().endswith(suffix)
    ]


def test_two_throttled_answers_then_success_through_sdk_retries(clean: SandboxHandle) -> None:
    clean.set_faults([{"method": "GET", "path": "/resourcegroups/rg$", "status": 429, "count": 2}])
    assert clean.clients().resources.resource_groups.get("rg").name == "rg"
    assert _statuses(clean, "GET", "/resourcegroups/rg") == [429, 429, 200]
    assert clean.faults()[0]["fired"] == 2


def test_server_errors_and_resets_are_retried(clean: SandboxHandle) -> None:
    clean.set_faults(
        [
            {"method": "PUT", "path": "/registries/regfault001$", "status": 503, "count": 1},
            {"method": "GET", "path": "/registries/regfault001$", "reset": True, "count": 1},
        ]
    )
    registries = clean.clients().registries.registries
    registries.begin_create(
        "rg", "regfault001", Registry(location="westeurope", sku=Sku(name="Basic"))
    ).result()
    _collect_reset_sockets(clean)
    assert _statuses(clean, "PUT", "/registries/regfault001") == [503, 201]
    assert _statuses(clean, "GET", "/registries/regfault001")[:2] == [0, 200]


def _collect_reset_sockets(sandbox: SandboxHandle) -> None:
    """The client side leaves the socket of a connection the server reset to the garbage
    collector (seen with urllib3 under azure-core's retries); collect it here, where the
    reset was made on purpose, instead of in whichever test runs next."""
    sandbox.close_clients()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def test_long_running_operation_can_end_failed(clean: SandboxHandle) -> None:
    clean.set_faults(
        [
            {
                "method": "PUT",
                "path": "/registries/regfail0001$",
                "lro": "failed",
                "errorCode": "RegistryProvisioningFailed",
            }
        ]
    )
    registries = clean.clients().registries.registries
    with pytest.raises(HttpResponseError) as failed:
        registries.begin_create(
            "rg", "regfail0001", Registry(location="westeurope", sku=Sku(name="Basic"))
        ).result()
    assert failed.value.error.code == "RegistryProvisioningFailed"
    assert registries.get("rg", "regfail0001").provisioning_state == "Failed"


def test_slow_provisioning_and_latency(clean: SandboxHandle) -> None:
    clean.settings(lro_retry_after=0)
    clean.set_faults(
        [
            {"method": "PUT", "path": "/registries/regslow0002$", "provisioningPolls": 3},
            {"method": "GET", "path": "/resourcegroups/rg$", "latencyMs": 200, "count": 1},
        ]
    )
    try:
        clients = clean.clients()
        clients.registries.registries.begin_create(
            "rg", "regslow0002", Registry(location="westeurope", sku=Sku(name="Basic"))
        ).result()
        clients.resources.resource_groups.get("rg")
    finally:
        clean.settings(lro_retry_after=1)
    polls = [e for e in clean.requests(arm_only=True) if "operationStatuses" in e["path"]]
    assert len(polls) == 4
    slow = [e for e in clean.requests(arm_only=True) if e["path"].lower().endswith("/rg")]
    assert slow[-1]["durationMs"] >= 200 and slow[-1]["fault"] == "latency 200ms"


def test_token_bucket_throttles_reads_per_subscription(clean: SandboxHandle) -> None:
    clean.settings(throttle={"reads": {"capacity": 3, "refill": 0.5}})
    groups = clean.clients(retry_total=0).resources.resource_groups
    for _ in range(3):
        groups.get("rg")
    with pytest.raises(HttpResponseError) as throttled:
        groups.get("rg")
    assert throttled.value.status_code == 429
    assert throttled.value.error.code == "TooManyRequests"
    headers = throttled.value.response.headers
    assert int(headers["Retry-After"]) >= 1
    assert headers["x-ms-ratelimit-remaining-subscription-reads"] == "0"


def test_remaining_quota_headers_count_down(clean: SandboxHandle) -> None:
    import requests

    clean.settings(throttle={"reads": {"capacity": 100, "refill": 0.01}})
    token = clean.credential().get_token("https://management.azure.com/.default").token
    url = f"{clean.arm_url}/subscriptions/{clean.subscription_id}/resourcegroups/rg"
    remaining = [
        int(
            requests.get(
                url,
                params={"api-version": "2025-04-01"},
                headers={"Authorization": f"Bearer {token}"},
                verify=clean.ca_bundle,
                timeout=10,
            ).headers["x-ms-ratelimit-remaining-subscription-reads"]
        )
        for _ in range(3)
    ]
    assert remaining == [99, 98, 97]
