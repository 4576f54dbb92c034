"""The data plane's retry policy end to end: a throttled or failing registry or token read
during ``plan`` is asked again and the plan converges; a trust upload is sent once.

Faults are the sandbox's (``plane: data``), injected at the loginServer in front of the
real docker-registry and notary-server; the CLI runs in-process with `sandbox env`.
"""

from __future__ import annotations

from typing import Any

import pytest

from acr_reconcile.errors import TrustServerError
from acr_sandbox.testing import SandboxHandle
from tests.e2e.plan_apply_support import REGISTRY, RG, Cli, Walkthrough, sdk

pytestmark = pytest.mark.e2e

MANIFEST_READ = r"^/v2/hello-world/manifests/signed$"


@pytest.fixture
def converged(cli: Cli, walkthrough: Walkthrough, sandbox: SandboxHandle) -> Cli:
    """The walkthrough applied and in sync, so a plan reads manifests and trust data."""
    sandbox.clear_faults()
    result = cli("apply", walkthrough.spec, "--auto-approve")
    assert result.code == 0, result.text
    return cli


@pytest.mark.parametrize(
    "rule",
    [
        {"method": "HEAD", "path": MANIFEST_READ, "status": 429},
        {"method": "HEAD", "path": MANIFEST_READ, "status": 503},
        {"method": "GET", "path": r"/_trust/tuf/timestamp\.json$", "status": 500},
        {"method": "POST", "path": r"^/oauth2/exchange$", "status": 503},
        {"method": "POST", "path": r"^/oauth2/token$", "status": 429},
    ],
    ids=["manifest-429", "manifest-503", "trust-read-500", "exchange-503", "token-429"],
)
def test_a_transient_answer_on_a_data_plane_read_does_not_fail_the_plan(
    converged: Cli, walkthrough: Walkthrough, sandbox: SandboxHandle, rule: dict[str, Any]
) -> None:
    sandbox.set_faults([rule | {"plane": "data", "count": 1, "retryAfter": 1}])
    try:
        plan = converged("plan", walkthrough.spec, "--detailed-exitcode")
        fired = sandbox.faults()[0]["fired"]
    finally:
        sandbox.clear_faults()
    assert fired == 1, "the fault never hit: the test would prove nothing"
    assert plan.code == 0, plan.text
    assert "No changes" in plan.out


def test_a_read_failing_for_good_still_fails_the_plan_naming_the_status(
    converged: Cli, walkthrough: Walkthrough, sandbox: SandboxHandle
) -> None:
    rule = {"plane": "data", "method": "HEAD", "path": MANIFEST_READ, "status": 503}
    sandbox.set_faults([rule | {"retryAfter": 1}])
    try:
        plan = converged("plan", walkthrough.spec, "--detailed-exitcode")
        fired = sandbox.faults()[0]["fired"]
    finally:
        sandbox.clear_faults()
    assert plan.code == 1, plan.text
    assert "HTTP 503" in plan.err and "hello-world:signed" in plan.err
    assert "Traceback" not in plan.text
    assert fired > 1  # asked again before giving up, a bounded number of times
    assert fired < 20


def test_a_trust_upload_is_never_retried_by_the_session(
    converged: Cli, walkthrough: Walkthrough, sandbox: SandboxHandle
) -> None:
    from acr_reconcile.live.images import DataPlane

    with sdk(sandbox) as clients:
        registry = clients.registries.registries.get(RG, REGISTRY)
    server = registry.as_dict()["properties"]["loginServer"]
    credential = sandbox.credential()
    plane = DataPlane(credential, sandbox.ca_bundle, walkthrough.env)
    gun = f"{server}/hello-world"
    upload = {"plane": "data", "method": "POST", "path": r"/hello-world/_trust/tuf/$"}
    try:
        manifest = plane.registry(server).manifest("hello-world", "signed")
        digest = (manifest.digest.removeprefix("sha256:"), manifest.size)
        sandbox.set_faults([upload | {"status": 503}])
        with pytest.raises(TrustServerError) as raised:
            plane.trust(server).publish(gun, add={"another": digest})
        fired = sandbox.faults()[0]["fired"]
    finally:
        sandbox.clear_faults()
        plane.close()
        credential.close()
    assert fired == 1  # the reads before it may be retried; the upload went out once
    assert raised.value.status == 503 and raised.value.transient  # for the outer retry
