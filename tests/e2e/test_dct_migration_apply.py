"""The migration applied on the sandbox (legacy DCT rules), with a document that lists only
one of the DCT-signed tags: tags signed by the tool and by the official notary CLI (in
targets and in a targets/releases delegation) all carry a Notation signature afterwards,
the ones the document does not list included; the tag moved after signing is reported and
its digests get none; without --allow-destroy-trust nothing is written at all; the
inventory file lists every tag; afterwards plan is clean, verify passes and a rerun of
apply writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
import yaml

from acr_reconcile.live.dct_file import read_inventory
from acr_reconcile.notation.manifest import SIGNATURE_ARTIFACT_TYPE
from acr_reconcile.registry.acr_auth import AcrTokenSource
from acr_reconcile.registry.client import RegistryClient
from acr_reconcile.registry.referrers import referrers
from acr_sandbox.testing import SandboxHandle
from tests.e2e.plan_apply_support import REGISTRY, RG, Cli, Walkthrough, sdk, writes
from tests.e2e.test_dct_migration import SIGNING, SUBJECT, _cli_signed_repository
from tests.support.independent_notation import check_cose

pytestmark = pytest.mark.e2e


def _trust_status(sandbox: SandboxHandle) -> str:
    with sdk(sandbox) as clients:
        policies = clients.registries.registries.get(RG, REGISTRY).policies
    return str(policies.trust_policy.status.value).lower()


def _writes(sandbox: SandboxHandle) -> list[str]:
    """Writes to ARM and the registries' data planes (ACR's token exchanges are reads)."""
    return [w for w in writes(sandbox.requests(data_plane=True)) if " /oauth2/" not in w]


def _signatures(sandbox: SandboxHandle, server: str, repository: str, digest: str) -> list[bytes]:
    """The envelopes of every Notary Project signature of ``digest``, read as raw bytes."""
    credential = sandbox.credential()
    found: list[bytes] = []
    with requests.Session() as session:
        tokens = AcrTokenSource(credential, verify=sandbox.ca_bundle, session=session)
        client = RegistryClient(server, tokens, sandbox.ca_bundle)
        for referrer in referrers(client, repository, digest, SIGNATURE_ARTIFACT_TYPE).referrers:
            body, _ = client.manifest_body(repository, referrer.digest)
            layer = json.loads(body)["layers"][0]
            found.append(client.blob(repository, layer["digest"]))
        client.close()
    credential.close()
    return found


def test_migration_carries_every_dct_signature_and_reruns_clean(
    cli: Cli,
    walkthrough: Walkthrough,
    sandbox: SandboxHandle,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert cli("apply", walkthrough.spec, "--auto-approve").code == 0  # we sign hello-world
    with sdk(sandbox) as clients:
        server = clients.registries.registries.get(RG, REGISTRY).login_server
    digests = _cli_signed_repository(sandbox, server, tmp_path / "notary")
    out = tmp_path / "migrate.yaml"
    exported = cli(
        "export",
        *("--subscription", sandbox.subscription_id, "--resource-group", RG),
        *("--registry", REGISTRY, "--to", "notation", *SIGNING, *SUBJECT, "--out", out),
    )
    assert exported.code == 0, exported.text
    spec = yaml.safe_load(out.read_text())
    spec["images"] = [i for i in spec["images"] if i["repository"] == "hello-world"]
    out.write_text(yaml.safe_dump(spec, sort_keys=False))  # cli-app's tags: not listed
    monkeypatch.chdir(tmp_path)

    # without --allow-destroy-trust: refused before any write, nothing signed, no file
    sandbox.clear_requests()
    refused = cli("apply", out, "--auto-approve")
    assert refused.code == 1 and "--allow-destroy-trust" in refused.text
    assert _writes(sandbox) == []
    assert _trust_status(sandbox) == "enabled"
    assert not list(tmp_path.glob("dct-inventory-*.json"))
    assert _signatures(sandbox, server, "cli-app", digests["rel"]) == []

    planned = json.loads(cli("plan", out, "--output", "json").out)
    rules = {d["details"].get("rule"): d["message"] for d in planned["diagnostics"]}
    assert "does not list them: cli-app:rel, cli-app:v1" in rules["dct-migration"]
    assert "cli-app:moved" in rules["dct-moved"]

    inventory_file = tmp_path / "inventory.json"
    applied = cli(
        "apply", out, "--auto-approve", "--allow-destroy-trust", "--dct-inventory", inventory_file
    )
    assert applied.code == 0, applied.text
    assert f"wrote the DCT inventory of {REGISTRY} to {inventory_file}" in applied.text
    assert "verified the Notation signatures of 3 digest(s)" in applied.text
    assert _trust_status(sandbox) == "disabled"

    inventory = read_inventory(inventory_file)
    tags = {(e.repository, e.tag, e.role) for e in inventory.entries}
    assert {("cli-app", "v1", "targets"), ("cli-app", "rel", "targets/releases")} <= tags
    assert any(t[:2] == ("hello-world", "signed") for t in tags) and len(tags) == 3
    assert [(p.tag, p.kind.value) for p in inventory.problems] == [("moved", "moved")]

    # every DCT-signed digest carries a Notation signature, checked independently of the
    # product's envelope code; the moved tag's digests (signed and served) carry none
    for tag in ("v1", "rel"):
        (envelope,) = _signatures(sandbox, server, "cli-app", digests[tag])
        target, chain = check_cose(envelope)
        assert target["digest"] == digests[tag]
        assert "CN=release" in chain[0].subject.rfc4514_string()
    for digest in (digests["moved"], digests["moved-now"]):
        assert _signatures(sandbox, server, "cli-app", digest) == []
    hello = next(e for e in inventory.entries if e.repository == "hello-world")
    assert len(_signatures(sandbox, server, "hello-world", hello.digest)) == 1

    # afterwards: DCT is gone, plan reads the inventory file, nothing to change, verify
    # passes for every carried digest, and a rerun of apply writes nothing
    cont = ("--dct-inventory", inventory_file)
    assert cli("plan", out, "--detailed-exitcode", *cont).code == 0
    verified = cli("verify", out, *cont)
    assert verified.code == 0, verified.text
    assert "content trust (DCT): disabled" in verified.out
    assert verified.out.count("ok   cli-app@") == 2 and "(tags rel): verified" in verified.out
    sandbox.clear_requests()
    rerun = cli("apply", out, "--auto-approve", "--allow-destroy-trust", *cont)
    assert rerun.code == 0 and "No changes" in rerun.text
    assert _writes(sandbox) == []
