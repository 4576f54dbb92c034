"""What the unattended-pipeline tests (crash safety, concurrency, secret hygiene) share.

They run the CLI as a real subprocess (``python -m acr_reconcile``), the way a pipeline
does, and judge the result by reading Azure back independently: the real mgmt SDK clients,
a fresh trust dir for a verified trust read, and the official ``notary`` CLI.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acr_sandbox.testing import SandboxHandle
from tests.e2e.plan_apply_support import ROOT, Result, sdk

WALKTHROUGH = ROOT / "examples" / "hello-world.yaml"
ROOT_PASSPHRASE = "DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE"
REPOSITORY_PASSPHRASE = "DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE"


@dataclass(frozen=True)
class Target:
    """One registry a spec declares, and the images (repository, tag, signed?) in it."""

    group: str
    name: str
    images: tuple[tuple[str, str, bool], ...]


WALKTHROUGH_TARGETS = (
    Target(
        "resourcegroupdavid",
        "registrydavid",
        (("hello-world", "signed", True), ("hello-world", "unsigned", False)),
    ),
)


def user_env(sandbox: SandboxHandle, workdir: Path, **extra: str) -> dict[str, str]:
    """The environment of a pipeline job: `sandbox env`, its own key store, passphrases."""
    return (
        dict(os.environ)
        | sandbox.env()
        | {
            "DOCKER_CONFIG": str(workdir / "docker"),
            ROOT_PASSPHRASE: "root passphrase for pipeline tests",
            REPOSITORY_PASSPHRASE: "repository passphrase for pipeline tests",
            "NO_COLOR": "1",
        }
        | extra
    )


def tool(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "acr_reconcile", *(str(a) for a in args)]


def run_tool(env: dict[str, str], *args: str | Path, timeout: float = 180) -> Result:
    done = subprocess.run(
        tool(*args),
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        cwd=ROOT,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def registry_scope(sandbox: SandboxHandle, target: Target, subscription: str = "") -> str:
    sub = subscription or sandbox.subscription_id
    return (
        f"/subscriptions/{sub}/resourceGroups/{target.group}"
        f"/providers/Microsoft.ContainerRegistry/registries/{target.name}"
    )


def assignment_keys(sandbox: SandboxHandle) -> Counter[tuple[str, str, str]]:
    """Every role assignment of the subscription as (principal, role GUID, scope), counted:
    a count above one is a duplicate."""
    with sdk(sandbox) as clients:
        found = list(clients.authorization.role_assignments.list_for_subscription())
    return Counter(
        (
            str(a.principal_id).lower(),
            str(a.role_definition_id).rsplit("/", 1)[-1].lower(),
            str(a.scope).rstrip("/").lower(),
        )
        for a in found
    )


def _registry_facts(clients: Any, target: Target) -> tuple[str, dict[str, Any]]:
    registry = clients.registries.registries.get(target.group, target.name)
    trust = registry.policies.trust_policy if registry.policies else None
    facts = {
        "sku": registry.sku.name,
        "adminUserEnabled": registry.admin_user_enabled,
        "trust": (trust.type, trust.status) if trust else None,
        "tags": dict(registry.tags or {}),
        "provisioningState": registry.provisioning_state,
    }
    return str(registry.login_server), facts


def live_state(sandbox: SandboxHandle, targets: tuple[Target, ...], reader_dir: Path) -> Any:
    """What a user would call the outcome: registry properties, assignments, each tag's
    digest and the verified trust data per repository (login servers left out: a
    registry made again after a reset gets another port)."""
    from acr_reconcile.live.images import DataPlane

    registries: dict[str, Any] = {}
    images: dict[str, Any] = {}
    trust: dict[str, Any] = {}
    credential = sandbox.credential()
    plane = DataPlane(credential, sandbox.ca_bundle, env={"DOCKER_CONFIG": str(reader_dir)})
    try:
        with sdk(sandbox) as clients:
            for target in targets:
                server, registries[target.name] = _registry_facts(clients, target)
                for repository, tag, _ in target.images:
                    found = plane.registry(server).manifest(repository, tag)
                    images[f"{target.name}/{repository}:{tag}"] = found and found.digest
                for repository in sorted({i[0] for i in target.images}):
                    read = plane.trust(server).read(f"{server}/{repository}")
                    trust[f"{target.name}/{repository}"] = {
                        t: f"sha256:{s.sha256_hex}" for t, s in read.targets.items()
                    }
    finally:
        plane.close()
        credential.close()
    assignments = sorted(key for key in assignment_keys(sandbox) if "/registries/" in key[2])
    return {"registries": registries, "images": images, "trust": trust, "roles": assignments}


def login_server(sandbox: SandboxHandle, target: Target) -> str:
    with sdk(sandbox) as clients:
        return _registry_facts(clients, target)[0]


def notary_list(sandbox: SandboxHandle, server: str, gun: str, trust_dir: Path) -> dict[str, str]:
    """``notary list GUN`` with the official CLI: tag -> sha256:digest."""
    auth = base64.b64encode(f"{sandbox.client_id}:{sandbox.client_secret}".encode()).decode()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(trust_dir)}
    argv = ["notary", "-s", f"https://{server}", "-d", str(trust_dir)]
    argv += ["--tlscacert", sandbox.ca_bundle, "list", gun]
    done = subprocess.run(
        argv,
        env=env | {"NOTARY_AUTH": auth},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert done.returncode == 0, f"notary list {gun}: {done.stdout}{done.stderr}"
    listed = {}
    for line in done.stdout.splitlines():
        fields = line.split()
        if len(fields) >= 3 and len(fields[1]) == 64:
            listed[fields[0]] = f"sha256:{fields[1]}"
    return listed


def check_trust_with_notary(
    sandbox: SandboxHandle, targets: tuple[Target, ...], workdir: Path
) -> None:
    """The official notary CLI lists exactly the signed tags, at the registry's digests."""
    for target in targets:
        server = login_server(sandbox, target)
        state = live_state(sandbox, (target,), workdir / f"reader-{target.name}")
        for repository in sorted({i[0] for i in target.images}):
            listed = notary_list(
                sandbox, server, f"{server}/{repository}", workdir / f"notary-{target.name}"
            )
            wanted = {
                tag: state["images"][f"{target.name}/{repository}:{tag}"]
                for repo, tag, signed in target.images
                if signed and repo == repository
            }
            assert listed == wanted, (target.name, repository, listed, wanted)
