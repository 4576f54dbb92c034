"""Four applies of overlapping specs at once, against one sandbox, end in the union of
what they declare: every tag of every spec signed (no signature lost to a concurrent
publish of the same repository), one assignment per principal, role and scope, trust
data that verifies (our reader and the official notary CLI). The first trust upload is
held a few seconds, so a concurrent publish to the same repository always wins first and
the held one must re-read and merge.

The overlaps are the ones pipelines of one team make: two specs own one registry with
the same settings and sign different tags of the same repository; the specs share some
role assignments and add their own; all use one resource group. The four jobs share the
runner's key store, as jobs of one signing identity do.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from acr_sandbox.testing import SandboxHandle
from tests.e2e.pipeline_support import (
    Target,
    assignment_keys,
    check_trust_with_notary,
    live_state,
    registry_scope,
    tool,
    user_env,
)
from tests.e2e.plan_apply_support import ROOT, sdk

pytestmark = pytest.mark.e2e

SIGNER = "AcrImageSigner"
ROLE_GUIDS = {
    "AcrImageSigner": "6cef56e8-d556-48e5-a04f-b8e64114680f",
    "AcrPush": "8311e382-0749-4cb8-b61a-304f252e45ec",
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
}
SOURCE = "docker.io/library/hello-world:latest"
# the first trust upload waits while another run initialises the same repository, so
# every run of this test has a publish that loses the race and must merge
FIRST_UPLOAD_HELD = {
    "plane": "data",
    "method": "POST",
    "path": r"^/v2/[^/]+/hello-world/_trust/tuf/$",
    "latencyMs": 4000,
    "count": 1,
}


def _document(sub: str, registry: str, signers: list[str], images: list[str]) -> str:
    return "\n".join(
        [
            "apiVersion: acr-reconcile/v1",
            "kind: RegistryTrust",
            f"subscriptionId: {sub}",
            "resourceGroup: {name: concurrent, location: westeurope}",
            f"registry: {{name: {registry}, sku: Premium, contentTrust: enabled}}",
            "signers:",
            *signers,
            "images:",
            *images,
            "",
        ]
    )


def _signer(label: str, app_id: str, roles: str) -> str:
    return f"  - {{name: {label}, principal: {{appId: {app_id}}}, roles: [{roles}]}}"


def _image(tag: str, sign: bool = True) -> str:
    flag = "true" if sign else "false"
    return f"  - {{repository: hello-world, tags: [{tag}], sign: {flag}, source: '{SOURCE}'}}"


def _specs(sandbox: SandboxHandle, directory: Path, other: str) -> list[Path]:
    sub, david = sandbox.subscription_id, sandbox.signer()[0]
    both = f"{SIGNER}, AcrPush"
    documents = {
        "a": _document(sub, "concurrentone", [_signer("David", david, both)], [_image("a1")]),
        "b": _document(
            sub,
            "concurrentone",
            [_signer("David", david, both), _signer("Other", other, "AcrPull")],
            [_image("b1")],
        ),
        "c": _document(
            sub,
            "concurrenttwo",
            [_signer("David", david, both)],
            [_image("c1"), _image("c2", sign=False)],
        ),
        "d": _document(
            sub,
            "concurrenttwo",
            [_signer("David", david, SIGNER), _signer("Other", other, "AcrPush")],
            [_image("d1")],
        ),
    }
    paths = []
    for name, text in documents.items():
        path = directory / f"{name}.yaml"
        path.write_text(text)
        paths.append(path)
    return paths


TARGETS = (
    Target(
        "concurrent",
        "concurrentone",
        (("hello-world", "a1", True), ("hello-world", "b1", True)),
    ),
    Target(
        "concurrent",
        "concurrenttwo",
        (("hello-world", "c1", True), ("hello-world", "c2", False), ("hello-world", "d1", True)),
    ),
)


def _expected_roles(sandbox: SandboxHandle, david: str, other: str) -> set[tuple[str, str, str]]:
    one, two = (registry_scope(sandbox, t).lower() for t in TARGETS)
    wanted = [
        (david, "AcrImageSigner", one),
        (david, "AcrPush", one),
        (other, "AcrPull", one),
        (david, "AcrImageSigner", two),
        (david, "AcrPush", two),
        (other, "AcrPush", two),
    ]
    return {(p, ROLE_GUIDS[r], s) for p, r, s in wanted}


def test_four_overlapping_applies_at_once_end_in_the_union(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    sandbox.reset_state()
    sandbox.settings(dct="legacy", replication_lag=0.0)
    other_app, other_object, _ = sandbox.add_principal(f"concurrent-{uuid.uuid4().hex[:8]}")
    specs = _specs(sandbox, tmp_path, other_app)
    env = user_env(sandbox, tmp_path)
    sandbox.set_faults([FIRST_UPLOAD_HELD])
    sandbox.clear_requests()
    processes = [
        subprocess.Popen(
            tool("apply", spec, "--auto-approve"),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
        )
        for spec in specs
    ]
    outputs = [p.communicate(timeout=240)[0] for p in processes]
    sandbox.clear_faults()
    for spec, process, out in zip(specs, processes, outputs, strict=True):
        assert process.returncode == 0, f"{spec.name}:\n{out}"
    uploads = [
        e["status"]
        for e in sandbox.requests(data_plane=True)
        if e.get("plane") == "data" and e["method"] == "POST" and "/_trust/tuf/" in e["path"]
    ]
    assert any(status >= 400 for status in uploads), uploads  # a publish raced and merged

    keys = assignment_keys(sandbox)
    assert {k: n for k, n in keys.items() if n > 1} == {}, "duplicate role assignments"
    david = _david_object_id(sandbox)
    at_registries = {k for k in keys if "/registries/concurrent" in k[2]}
    assert at_registries == _expected_roles(sandbox, david, other_object.lower())

    state = live_state(sandbox, TARGETS, tmp_path / "reader")
    digest = state["images"]["concurrentone/hello-world:a1"]
    assert digest and all(d == digest for d in state["images"].values()), state["images"]
    assert state["trust"] == {
        "concurrentone/hello-world": {"a1": digest, "b1": digest},
        "concurrenttwo/hello-world": {"c1": digest, "d1": digest},
    }
    for facts in state["registries"].values():
        assert (facts["sku"], facts["trust"]) == ("Premium", ("Notary", "enabled"))
    check_trust_with_notary(sandbox, TARGETS, tmp_path)


def _david_object_id(sandbox: SandboxHandle) -> str:
    """The walkthrough signer's object id, as the role assignments name it."""
    app_id = sandbox.signer()[0]
    for principal in sandbox.state().get("principals", {}).values():
        if str(principal.get("appId", "")).lower() == app_id:
            return str(principal.get("objectId") or principal.get("id")).lower()
    raise AssertionError("the seeded signer is missing from the sandbox state")


def test_a_registry_another_run_creates_while_this_one_plans_is_updated_not_refused(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """The name check lands after a concurrent run created the registry the list missed:
    the registry is this spec's to update, not someone else's name."""
    from azure.mgmt.containerregistry.models import Registry, Sku

    sandbox.reset_state()
    spec = tmp_path / "late.yaml"
    spec.write_text(
        "\n".join(
            [
                "apiVersion: acr-reconcile/v1",
                "kind: RegistryTrust",
                f"subscriptionId: {sandbox.subscription_id}",
                "resourceGroup: {name: concurrent, location: westeurope}",
                "registry: {name: concurrentlate, sku: Premium}",
                "",
            ]
        )
    )
    sandbox.set_faults([{"method": "POST", "path": "/checkNameAvailability$", "latencyMs": 3000}])
    plan = subprocess.Popen(
        tool("plan", spec, "--detailed-exitcode"),
        env=user_env(sandbox, tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    try:
        _wait_for(lambda: sandbox.faults()[0]["fired"] >= 1)
        with sdk(sandbox) as clients:
            clients.resources.resource_groups.create_or_update(
                "concurrent", {"location": "westeurope"}
            )
            body = Registry(location="westeurope", sku=Sku(name="Standard"))
            clients.registries.registries.begin_create(
                "concurrent", "concurrentlate", body
            ).result()
        out = plan.communicate(timeout=120)[0]
    finally:
        if plan.poll() is None:
            plan.kill()
            plan.wait()
        sandbox.clear_faults()
    assert plan.returncode == 2, out
    assert "~ registry concurrentlate" in out and "Premium" in out, out


def _wait_for(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
