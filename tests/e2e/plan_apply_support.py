"""Shared set-up for the plan/apply/export end-to-end tests.

The walkthrough spec (examples/hello-world.yaml) imports hello-world from Docker Hub,
which the offline sandbox cannot reach; the tests push a small image to a second sandbox
registry and point the spec's ``source`` there. Everything else is the walkthrough as
users run it: the real CLI, DefaultAzureCredential from `sandbox env`, real servers.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from acr_sandbox.testing import SandboxHandle
from tests.support.images import push_test_image

ROOT = Path(__file__).resolve().parents[2]
WALKTHROUGH = ROOT / "examples" / "hello-world.yaml"
HUB_SOURCE = "docker.io/library/hello-world:latest"
WRITE_METHODS = {"PUT", "PATCH", "DELETE"}
ACR_ROLES = {"6cef56e8-d556-48e5-a04f-b8e64114680f", "8311e382-0749-4cb8-b61a-304f252e45ec"}
RG, REGISTRY = "resourcegroupdavid", "registrydavid"


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


@dataclass(frozen=True)
class Walkthrough:
    spec: Path
    env: dict[str, str]  # sandbox env plus the signing key store and its passphrases
    source: str  # the sandbox image the spec imports


Cli = Callable[..., Result]


@contextmanager
def sdk(sandbox: SandboxHandle) -> Iterator[Any]:
    """The sandbox's real mgmt clients, closed afterwards (no socket outlives a test)."""
    credential = sandbox.credential()
    clients = sandbox.clients(credential)
    try:
        yield clients
    finally:
        for client in (clients.resources, clients.registries, clients.authorization):
            client.close()
        credential.close()


def push_source_image(sandbox: SandboxHandle, name: str = "sourcehub") -> str:
    """A registry holding hello-world:latest, as ``<login server>/hello-world:latest``."""
    from azure.mgmt.containerregistry.models import Registry, Sku

    from acr_reconcile.registry.acr_auth import AcrTokenSource
    from acr_reconcile.registry.client import RegistryClient

    with sdk(sandbox) as clients:
        clients.resources.resource_groups.create_or_update("sources", {"location": "westeurope"})
        body = Registry(location="westeurope", sku=Sku(name="Premium"))
        created = clients.registries.registries.begin_create("sources", name, body).result()
    server = created.as_dict()["properties"]["loginServer"]
    credential = sandbox.credential()
    with requests.Session() as session:
        tokens = AcrTokenSource(credential, verify=sandbox.ca_bundle, session=session)
        registry = RegistryClient(server, tokens, sandbox.ca_bundle)
        push_test_image(registry, "hello-world", "latest", "1")
        registry.close()
    credential.close()
    return f"{server}/hello-world:latest"


def make_walkthrough(sandbox: SandboxHandle, workdir: Path) -> Walkthrough:
    sandbox.reset_state()
    sandbox.settings(dct="legacy", replication_lag=0.0)
    source = push_source_image(sandbox)
    spec = workdir / "walkthrough.yaml"
    spec.write_text(WALKTHROUGH.read_text().replace(HUB_SOURCE, source))
    env = sandbox.env() | {
        "DOCKER_CONFIG": str(workdir / "docker"),
        "DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE": "root passphrase for tests",
        "DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE": "repository passphrase for tests",
    }
    return Walkthrough(spec, env, source)


def cli_runner(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Cli:
    """Run the CLI in-process, with exactly ``env`` set as a user's shell would have it."""
    from acr_reconcile import console
    from acr_reconcile.cli import main

    for key, value in env.items():
        monkeypatch.setenv(key, value)

    def run(*args: str) -> Result:
        console.stdout.cache_clear()
        console.stderr.cache_clear()
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        sys.stdout.flush()
        return Result(code, captured.out, captured.err)

    return run


# POSTs that change nothing: a token request, ARM's name check (counted as a read by ARM)
# and Graph's batched object lookup (a read in Graph's permission model).
READ_ONLY_POSTS = ("/oauth2/v2.0/token", "/checkNameAvailability", "/directoryObjects/getByIds")


def writes(entries: list[dict[str, Any]]) -> list[str]:
    """Requests that change something: ARM writes and every POST but the reads above."""
    found = []
    for entry in entries:
        method, path = entry["method"], entry["path"]
        if method in WRITE_METHODS or (method == "POST" and not path.endswith(READ_ONLY_POSTS)):
            found.append(f"{method} {path}")
    return found


def registry_id(sandbox: SandboxHandle) -> str:
    return (
        f"/subscriptions/{sandbox.subscription_id}/resourceGroups/{RG}"
        f"/providers/Microsoft.ContainerRegistry/registries/{REGISTRY}"
    )


def acr_assignments(sandbox: SandboxHandle) -> list[Any]:
    """Assignments of the walkthrough's two roles at the registry scope itself."""
    scope = registry_id(sandbox)
    with sdk(sandbox) as clients:
        return [
            a
            for a in clients.authorization.role_assignments.list_for_scope(scope)
            if (a.scope or "").lower() == scope.lower()
            and a.role_definition_id.rsplit("/", 1)[-1].lower() in ACR_ROLES
        ]
