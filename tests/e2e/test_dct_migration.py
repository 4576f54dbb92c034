"""A DCT registry on the sandbox (legacy DCT rules) moving to Notation: tags signed by the
tool and by the official notary CLI (in targets and in a targets/releases delegation), and a
tag moved after signing. The inventory carries exactly the valid ones; export --to notation
lists them; plan on it signs every DCT digest before disabling trust; apply makes those
Notation signatures, then disables trust, and the registry plans clean."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import pytest
import requests
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from acr_reconcile.live.dct import DctReading, dct_inventory
from acr_reconcile.live.dct_file import read_inventory, write_inventory
from acr_reconcile.live.dct_read import read_dct
from acr_reconcile.live.images import DataPlane
from acr_reconcile.live.state import LiveRegistry
from acr_reconcile.registry.acr_auth import AcrTokenSource
from acr_reconcile.registry.client import RegistryClient
from acr_sandbox.testing import SandboxHandle
from tests.e2e.plan_apply_support import REGISTRY, RG, Cli, Walkthrough, sdk
from tests.support.images import push_test_image

pytestmark = pytest.mark.e2e

SIGNING = ["--signing-vault", "contoso-signing", "--signing-certificate", "release"]
SUBJECT = ["--signing-subject", "CN=release, O=Contoso, ST=WA, C=US"]


def _notary(sandbox: SandboxHandle, server: str, home: Path, *args: str) -> str:
    app_id, secret = sandbox.signer()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "NOTARY_AUTH": base64.b64encode(f"{app_id}:{secret}".encode()).decode(),
        "NOTARY_ROOT_PASSPHRASE": "cli root passphrase",
        "NOTARY_TARGETS_PASSPHRASE": "cli targets passphrase",
        "NOTARY_SNAPSHOT_PASSPHRASE": "cli snapshot passphrase",
        "NOTARY_DELEGATION_PASSPHRASE": "cli delegation passphrase",
    }
    argv = ["notary", "-s", f"https://{server}", "-d", str(home / "trust")]
    argv += ["--tlscacert", sandbox.ca_bundle, *args]
    done = subprocess.run(
        argv, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _cli_signed_repository(sandbox: SandboxHandle, server: str, home: Path) -> dict[str, str]:
    """cli-app: v1 in targets, rel in targets/releases, moved (re-pushed after signing)."""
    credential = sandbox.credential()
    digests: dict[str, str] = {}
    with requests.Session() as session:
        tokens = AcrTokenSource(credential, verify=sandbox.ca_bundle, session=session)
        registry = RegistryClient(server, tokens, sandbox.ca_bundle)
        for tag, seed in (("v1", "cli-1"), ("rel", "cli-2"), ("moved", "cli-3")):
            digests[tag] = push_test_image(registry, "cli-app", tag, seed)
        sizes = {t: registry.manifest("cli-app", t).size for t in digests}  # type: ignore[union-attr]
        gun = f"{server}/cli-app"
        _notary(sandbox, server, home, "init", gun)
        key = ec.generate_private_key(ec.SECP256R1())
        pub, priv = home / "rel.pub", home / "rel.key"
        pub.write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        priv.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        _notary(
            sandbox,
            server,
            home,
            "delegation",
            "add",
            gun,
            "targets/releases",
            str(pub),
            "--all-paths",
        )
        _notary(sandbox, server, home, "key", "import", str(priv), "-r", "targets/releases")
        for tag, role in (("v1", "targets"), ("rel", "targets/releases"), ("moved", "targets")):
            hexdigest = digests[tag].removeprefix("sha256:")
            extra = ["-r", role] if role != "targets" else []
            _notary(
                sandbox,
                server,
                home,
                "addhash",
                gun,
                tag,
                str(sizes[tag]),
                "--sha256",
                hexdigest,
                *extra,
            )
        _notary(sandbox, server, home, "publish", gun)
        digests["moved-now"] = push_test_image(registry, "cli-app", "moved", "cli-4")
        registry.close()
    credential.close()
    return digests


def test_dct_inventory_export_plan_and_evidence(
    cli: Cli,
    walkthrough: Walkthrough,
    sandbox: SandboxHandle,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert cli("apply", walkthrough.spec, "--auto-approve").code == 0  # we sign hello-world:signed
    with sdk(sandbox) as clients:
        server = clients.registries.registries.get(RG, REGISTRY).login_server
    digests = _cli_signed_repository(sandbox, server, tmp_path / "notary")
    listed = _notary(sandbox, server, tmp_path / "notary", "list", f"{server}/cli-app")
    assert "targets/releases" in listed  # the CLI really signed into the delegation

    out = tmp_path / "migrate.yaml"
    exported = cli(
        "export",
        "--subscription",
        sandbox.subscription_id,
        "--resource-group",
        RG,
        "--registry",
        REGISTRY,
        "--to",
        "notation",
        *SIGNING,
        *SUBJECT,
        "--out",
        out,
    )
    assert exported.code == 0, exported.text
    assert "cli-app:moved" in exported.err and digests["moved-now"] in exported.err
    spec = yaml.safe_load(out.read_text())
    assert spec["registry"]["contentTrust"] == "disabled"
    assert spec["notation"]["signingKey"]["keyVault"]["name"] == "contoso-signing"
    assert spec["images"] == [
        {"repository": "cli-app", "tags": ["rel", "v1"], "sign": True},
        {"repository": "hello-world", "tags": ["signed"], "sign": True},
    ]
    assert cli("validate", out).code == 0

    planned = cli("plan", out, "--output", "json")
    document = json.loads(planned.out)
    rules = {d["details"].get("rule"): d["message"] for d in document["diagnostics"]}
    assert "DCT signs 3 tags (3 digests in 2 repositories)" in rules["dct-migration"]
    assert "cli-app:moved" in rules["dct-moved"]
    changes = [c for c in document["changes"] if c["action"] != "no-op"]
    kinds = [c["kind"] for c in changes]
    signed = {c["params"]["digest"] for c in changes if c["kind"] == "notation-signature"}
    assert {digests["v1"], digests["rel"]} <= signed and len(signed) == 3
    assert digests["moved"] not in signed and digests["moved-now"] not in signed
    assert all(
        c["params"]["media_type"] == "application/vnd.docker.distribution.manifest.v2+json"
        for c in changes
        if c["kind"] == "notation-signature"
    )
    trust = next(c for c in changes if c["kind"] == "trust-policy")
    assert trust["params"]["destructive"] is True
    assert max(i for i, k in enumerate(kinds) if k == "notation-signature") < kinds.index(
        "trust-policy"
    )

    # the inventory the evidence is written from, read as plan and apply read it
    evidence = tmp_path / "evidence.json"
    write_inventory(evidence, dct_inventory(_read_dct(sandbox, walkthrough, server)))
    inventory = read_inventory(evidence)
    roles = {(e.repository, e.tag, e.role) for e in inventory.entries}
    assert ("cli-app", "v1", "targets") in roles
    assert ("cli-app", "rel", "targets/releases") in roles
    assert any(r[:2] == ("hello-world", "signed") for r in roles)
    assert ("cli-app", "moved") not in {(e.repository, e.tag) for e in inventory.entries}
    assert {e.digest for e in inventory.entries if e.repository == "cli-app"} == {
        digests["v1"],
        digests["rel"],
    }
    assert len({e.root_key_id for e in inventory.entries if e.repository == "cli-app"}) == 1
    assert [(p.tag, p.kind.value) for p in inventory.problems] == [("moved", "moved")]
    assert evidence.stat().st_mode & 0o777 == 0o600
    text = evidence.read_text()
    for secret in (sandbox.signer()[1], walkthrough.env["DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE"]):
        assert secret not in text

    # apply makes the carried Notation signatures (Key Vault signing), then disables
    # content trust, which depends on them; the migrated registry then plans clean
    monkeypatch.chdir(tmp_path)
    applied = cli("apply", out, "--auto-approve", "--allow-destroy-trust")
    assert applied.code == 0 and "Traceback" not in applied.err, applied.text
    with sdk(sandbox) as clients:
        policies = clients.registries.registries.get(RG, REGISTRY).policies
    assert policies.trust_policy.status == "disabled"
    assert cli("plan", out, "--detailed-exitcode").code == 0


def _read_dct(sandbox: SandboxHandle, walkthrough: Walkthrough, server: str) -> DctReading:
    credential = sandbox.credential()
    data_plane = DataPlane(credential, sandbox.ca_bundle, walkthrough.env)
    registry = LiveRegistry(
        id="",
        name=REGISTRY,
        resource_group=RG,
        location="westeurope",
        sku="Premium",
        login_server=server,
        admin_user_enabled=False,
        trust_status="enabled",
    )
    try:
        return read_dct(data_plane, registry)
    finally:
        data_plane.close()
        credential.close()
