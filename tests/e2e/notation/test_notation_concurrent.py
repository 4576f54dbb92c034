"""Two applies at once sign two tags of one repository that point at the same manifest,
on a registry without the referrers API: both signatures must end up in the one
``sha256-<hex>`` index they share. The first writer's check of the index right before
its PUT is held for seconds, so the other writer's PUT lands in between: the held one
must see the index moved, read it again and merge, never overwrite it (a PUT that lost
a race after the check is caught by reading the index back; the unit tests race that).

Each apply signs with its own file key, so neither finds the other's signature to be its
own (the same certificate would rightly be kept instead of signing twice).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from acr_reconcile.notation.manifest import SIGNATURE_ARTIFACT_TYPE, referrer_tag
from acr_reconcile.registry.referrers import referrers
from acr_sandbox.testing import SandboxHandle
from tests.e2e.notation.test_notation_apply import GROUP, cmk_registry, registry_client
from tests.e2e.pipeline_support import tool
from tests.e2e.plan_apply_support import ROOT
from tests.support.images import push_test_image
from tests.support.notation_certs import self_signed

pytestmark = pytest.mark.e2e
NAME = "regnotationrace"


def _spec(sandbox: SandboxHandle, tag: str, key_dir: str) -> str:
    return f"""\
apiVersion: acr-reconcile/v1
kind: RegistryTrust
subscriptionId: {sandbox.subscription_id}
resourceGroup: {{name: {GROUP}, location: westeurope}}
registry: {{name: {NAME}, sku: Premium}}
notation:
  signingKey:
    file: {{key: {key_dir}/signing.key, certificate: {key_dir}/signing.crt}}
images:
  - {{repository: hello-world, tags: [{tag}]}}
"""


def test_two_applies_signing_one_manifest_at_once_both_land_in_the_tag_schema(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    sandbox.reset_state()
    sandbox.settings(dct="current", replication_lag=0.0)
    try:
        cmk_registry(sandbox, NAME)
        registry = registry_client(sandbox, NAME)
        try:
            digest = push_test_image(registry.client, "hello-world", "race-a", "shared")
            push_test_image(registry.client, "hello-world", "race-b", "shared")
        finally:
            registry.close()
        specs = []
        for tag in ("race-a", "race-b"):
            (tmp_path / tag).mkdir()
            self_signed("p256", cn=f"release {tag}").write(tmp_path / tag)
            spec = tmp_path / f"{tag}.yaml"
            spec.write_text(_spec(sandbox, tag, tag))
            specs.append(spec)
        index_path = rf"^/v2/hello-world/manifests/{referrer_tag(digest)}$"
        sandbox.set_faults(
            [{"plane": "data", "method": "HEAD", "path": index_path, "latencyMs": 6000, "count": 1}]
        )
        sandbox.clear_requests()
        env = dict(os.environ) | sandbox.env() | {"NO_COLOR": "1"}
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
        for process, out in zip(processes, outputs, strict=True):
            assert process.returncode == 0, out
        seen = [
            (e["method"], e.get("status"))
            for e in sandbox.requests(data_plane=True)
            if referrer_tag(digest) in e["path"]
        ]
        # the held check was sent while no index existed and answered once the other
        # writer's PUT had made one: the held writer read again and merged, then wrote
        assert ("HEAD", 200) in seen and seen.count(("PUT", 201)) == 2, seen
    finally:
        sandbox.clear_faults()
        sandbox.settings(dct="legacy")

    registry = registry_client(sandbox, NAME)
    try:
        listed = referrers(registry.client, "hello-world", digest, SIGNATURE_ARTIFACT_TYPE)
        assert listed.referrers_api is False and len(listed.referrers) == 2, listed
    finally:
        registry.close()
    env = dict(os.environ) | sandbox.env()
    for spec in specs:  # each document's own signature verifies under its policy
        done = subprocess.run(
            tool("plan", spec, "--detailed-exitcode"),
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            cwd=ROOT,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
