"""skopeo (Debian; containers/image, which sends one ``Accept`` line per media type)
copies registry → registry through the loginServers and keeps the digest."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from azure.mgmt.containerregistry.models import Registry, Sku

from acr_sandbox.testing import SandboxHandle
from tests.e2e.registry_http import RegistryHttp, digest_of

SKOPEO = "/usr/bin/skopeo"


@pytest.fixture(scope="module")
def pair(sandbox: SandboxHandle) -> tuple[RegistryHttp, RegistryHttp]:
    if shutil.which(SKOPEO) is None:
        pytest.fail("skopeo is missing: install the Debian package 'skopeo' (make sysdeps)")
    sandbox.reset_state()
    clients = sandbox.clients()
    clients.resources.resource_groups.create_or_update("rg", {"location": "westeurope"})
    made = []
    for name in ("regskopeo01", "regskopeo02"):
        body = Registry(location="westeurope", sku=Sku(name="Premium"))
        created = clients.registries.registries.begin_create("rg", name, body).result()
        made.append(RegistryHttp(sandbox, str(created.login_server)))
    return made[0], made[1]


def _skopeo(sandbox: SandboxHandle, tmp: Path, *args: str) -> str:
    certs = tmp / "certs"
    certs.mkdir(exist_ok=True)
    shutil.copy(sandbox.ca_bundle, certs / "ca.crt")
    app_id, secret = sandbox.client_id, sandbox.client_secret
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp), "REGISTRY_AUTH_FILE": str(tmp / "auth.json")}
    argv = [SKOPEO, "--command-timeout=120s"] + [
        a.replace("{certs}", str(certs)).replace("{creds}", f"{app_id}:{secret}") for a in args
    ]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_copy_between_registries_keeps_the_digest(
    sandbox: SandboxHandle, pair: tuple[RegistryHttp, RegistryHttp], tmp_path: Path
) -> None:
    source, target = pair
    digest, _ = source.push_image("app", "skopeo-1", "v1")
    _skopeo(
        sandbox,
        tmp_path,
        "copy",
        "--src-cert-dir={certs}",
        "--dest-cert-dir={certs}",
        "--src-creds={creds}",
        "--dest-creds={creds}",
        f"docker://{source.login_server}/app:v1",
        f"docker://{target.login_server}/copied/app:v1",
    )
    copied = target.raw_manifest("copied/app", "v1")
    assert digest_of(copied) == digest
    inspected = json.loads(
        _skopeo(
            sandbox,
            tmp_path,
            "inspect",
            "--cert-dir={certs}",
            "--creds={creds}",
            f"docker://{target.login_server}/copied/app:v1",
        )
    )
    assert inspected["Digest"] == digest
