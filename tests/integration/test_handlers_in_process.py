"""Each apply handler on its own, against the sandbox served in this process.

The changes come from the real planner over a spec (so the tests follow whatever the
planner hands the executor), the clients from the tool's own ``connect`` with the
environment `sandbox env` exports: real credential chain, real SDK clients, real HTTPS,
the emulator's ARM, Entra ID, Graph and data plane. No mocks, no HTTP patching; the SDK
settings are the tool's defaults but for the long-running-operation polling interval.
A handler is run again on the same change to show it re-checks and does nothing twice.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from acr_reconcile.apply.context import ApplyContext
from acr_reconcile.apply.handlers import HANDLERS
from acr_reconcile.apply.retry import OuterRetry
from acr_reconcile.azure.clients import RetryOptions
from acr_reconcile.commands.connection import Connection, connect
from acr_reconcile.commands.plan import load_documents, plan_documents
from acr_reconcile.errors import ConfigError, TransientAzureError
from acr_reconcile.live.state import APPLIED_TAG
from acr_reconcile.plan.model import Action, Change, Kind, Plan
from acr_sandbox.testing import SandboxHandle
from tests.e2e.plan_apply_support import push_source_image, sdk

pytestmark = pytest.mark.e2e

RG, REGISTRY = "handlersrg", "handlersreg"
SIGNER = "DavidServiceAccount"
ACR_PUSH = "8311e382-0749-4cb8-b61a-304f252e45ec"


def _spec(
    sandbox: SandboxHandle,
    *,
    trust: str = "enabled",
    signer: str = f"displayName: {SIGNER}",
    prune: bool = False,
    source: str | None = None,
) -> str:
    images = (
        ["images:", f"  - {{repository: hello, tags: [v1], sign: false, source: '{source}'}}"]
        if source
        else []
    )
    return "\n".join(
        [
            "apiVersion: acr-reconcile/v1",
            "kind: RegistryTrust",
            f"subscriptionId: {sandbox.subscription_id}",
            f"resourceGroup: {{name: {RG}, location: westeurope}}",
            f"registry: {{name: {REGISTRY}, sku: Premium, contentTrust: {trust}}}",
            "signers:",
            f"  - {{name: signer, principal: {{{signer}}}, roles: [AcrPush]}}",
            f"roleAssignments: {{prune: {str(prune).lower()}}}",
            *images,
            "",
        ]
    )


class World:
    """One clean sandbox, the tool's connection to it, and a planner over a spec."""

    def __init__(self, sandbox: SandboxHandle, connection: Connection, workdir: Path) -> None:
        self.sandbox = sandbox
        self.connection = connection
        self.workdir = workdir
        self.ctx = ApplyContext(session=connection.session)

    def plan(self, text: str) -> Plan:
        path = self.workdir / f"spec-{uuid.uuid4().hex[:8]}.yaml"
        path.write_text(text)
        return plan_documents(load_documents([str(path)], None), self.connection, 4).plan

    def change(self, plan: Plan, kind: Kind) -> Change:
        found = [c for c in plan.pending if c.kind is kind]
        assert len(found) == 1, [c.address for c in plan.pending]
        return found[0]

    def run(self, change: Change, ctx: ApplyContext | None = None) -> str:
        return HANDLERS[change.kind]([change], ctx or self.ctx)

    def apply(self, plan: Plan, *kinds: Kind) -> None:
        """Run the pending changes of ``kinds``, in plan order (dependencies first)."""
        for change in plan.pending:
            if change.kind in kinds:
                self.run(change)

    def registry(self) -> Any:
        with sdk(self.sandbox) as clients:
            return clients.registries.registries.get(RG, REGISTRY)

    def assignments(self) -> list[Any]:
        scope = self.registry().id
        with sdk(self.sandbox) as clients:
            return [
                a
                for a in clients.authorization.role_assignments.list_for_scope(scope)
                if (a.scope or "").lower() == scope.lower()
            ]


@pytest.fixture(scope="module")
def connection(sandbox_in_process: SandboxHandle) -> Iterator[Connection]:
    """The tool's connection, with exactly the shell environment `sandbox env` gives."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in sandbox_in_process.env().items():
            patch.setenv(key, value)
        with connect(retry=RetryOptions(polling_interval=0.0)) as connected:
            yield connected


@pytest.fixture
def world(
    sandbox_in_process: SandboxHandle, connection: Connection, tmp_path: Path
) -> Iterator[World]:
    sandbox_in_process.reset_state()
    sandbox_in_process.settings(dct="legacy", replication_lag=0.0, lro_retry_after=0)
    yield World(sandbox_in_process, connection, tmp_path)
    sandbox_in_process.clear_faults()
    sandbox_in_process.settings(replication_lag=0.0)


def test_resource_group_is_created_then_left_alone(world: World) -> None:
    change = world.change(world.plan(_spec(world.sandbox)), Kind.RESOURCE_GROUP)
    assert world.run(change) == "created"
    with sdk(world.sandbox) as clients:
        live = clients.resources.resource_groups.get(RG)
    assert live.location == "westeurope"
    assert world.run(change) == "already as planned"


def test_registry_is_created_with_the_planned_sku_and_no_applied_record_yet(
    world: World,
) -> None:
    plan = world.plan(_spec(world.sandbox))
    world.apply(plan, Kind.RESOURCE_GROUP)
    change = world.change(plan, Kind.REGISTRY)
    assert world.run(change) == "created"
    live = world.registry().as_dict()
    assert live["sku"]["name"] == "Premium"
    # The applied record (what the next plan tells drift from a new spec by) is written by
    # the executor only after every change of the target succeeded, never by this handler:
    # a registry whose later changes failed must not read as applied to the drift check.
    assert APPLIED_TAG not in (live["tags"] or {})
    assert world.run(change) == "already as planned"


def test_trust_policy_is_enabled_and_disabling_needs_the_flag(world: World) -> None:
    plan = world.plan(_spec(world.sandbox))
    world.apply(plan, Kind.RESOURCE_GROUP, Kind.REGISTRY)
    enable = world.change(plan, Kind.TRUST_POLICY)
    assert world.run(enable) == "trust enabled"
    policies = world.registry().as_dict()["properties"]["policies"]
    assert policies["trustPolicy"]["status"] == "enabled"
    assert world.run(enable) == "trust already enabled"

    disable = world.change(world.plan(_spec(world.sandbox, trust="disabled")), Kind.TRUST_POLICY)
    with pytest.raises(ConfigError, match="--allow-destroy-trust"):
        world.run(disable)
    assert world.registry().as_dict()["properties"]["policies"]["trustPolicy"]["status"] == (
        "enabled"
    )
    allowed = replace(world.ctx, allow_destroy_trust=True)
    assert world.run(disable, allowed) == "trust disabled"


def test_role_assignment_is_created_once_and_deleted_when_pruned(world: World) -> None:
    plan = world.plan(_spec(world.sandbox))
    world.apply(plan, Kind.RESOURCE_GROUP, Kind.REGISTRY)
    create = world.change(plan, Kind.ROLE_ASSIGNMENT)
    assert world.run(create) == "assigned"
    assert world.run(create) == "already assigned"
    assert len(world.assignments()) == 1

    _, stray, _ = world.sandbox.add_principal(f"stray-{uuid.uuid4().hex[:6]}")
    extra = _assign(world, stray, name=str(uuid.uuid4()))
    prune = world.plan(_spec(world.sandbox, prune=True))
    delete = next(c for c in prune.pending if c.action is Action.DELETE)
    assert delete.resource_id.lower() == extra.lower()
    assert world.run(delete) == "removed"
    assert world.run(delete) == "already removed"
    assert [a.principal_id for a in world.assignments()] == [_object_id(world, SIGNER)]


def test_an_assignment_made_under_another_name_is_adopted(world: World) -> None:
    plan = world.plan(_spec(world.sandbox))
    world.apply(plan, Kind.RESOURCE_GROUP, Kind.REGISTRY)
    create = world.change(plan, Kind.ROLE_ASSIGNMENT)
    other = _assign(world, _object_id(world, SIGNER), name=str(uuid.uuid4()))
    assert world.run(create) == "already assigned"
    assert [a.id.lower() for a in world.assignments()] == [other.lower()]


def test_role_assignment_exists_from_a_concurrent_creator_is_success(world: World) -> None:
    """Someone assigns the same role under another name between our look and our PUT:
    ARM answers 409 RoleAssignmentExists, which is the outcome we wanted."""
    plan = world.plan(_spec(world.sandbox))
    world.apply(plan, Kind.RESOURCE_GROUP, Kind.REGISTRY)
    create = world.change(plan, Kind.ROLE_ASSIGNMENT)
    name = create.resource_id.rsplit("/", 1)[-1]
    world.sandbox.set_faults(
        [{"method": "PUT", "path": f"/roleAssignments/{name}$", "latencyMs": 3000, "count": 1}]
    )
    outcome: list[str] = []
    runner = threading.Thread(target=lambda: outcome.append(world.run(create)))
    with sdk(world.sandbox) as clients:  # ready before our PUT is held
        clients.authorization.role_assignments.list_for_scope(world.registry().id)
        runner.start()
        _wait_for(lambda: world.sandbox.faults()[0]["fired"] >= 1)  # our PUT is held
        other = _assign(world, _object_id(world, SIGNER), name=str(uuid.uuid4()), clients=clients)
    runner.join(timeout=60)
    assert outcome == ["already assigned"]
    assert [a.id.lower() for a in world.assignments()] == [other.lower()]


def test_principal_not_found_is_waited_for_within_the_replication_window(world: World) -> None:
    plan = world.plan(_spec(world.sandbox))
    world.apply(plan, Kind.RESOURCE_GROUP, Kind.REGISTRY)
    world.sandbox.settings(replication_lag=3.0)
    app_id, object_id, _ = world.sandbox.add_principal(f"fresh-{uuid.uuid4().hex[:6]}")
    fresh = world.plan(_spec(world.sandbox, signer=f"appId: {app_id}"))
    create = world.change(fresh, Kind.ROLE_ASSIGNMENT)

    impatient = replace(world.ctx, replication_window=0.0, retry=OuterRetry(attempts=1))
    with pytest.raises(TransientAzureError, match="PrincipalNotFound") as raised:
        world.run(create, impatient)
    assert raised.value.transient and raised.value.code == "PrincipalNotFound"

    patient = replace(world.ctx, replication_window=30.0, retry=OuterRetry(base_delay=0.5))
    assert world.run(create, patient) == "assigned"
    assert object_id in [a.principal_id for a in world.assignments()]


def test_image_import_copies_the_tag_once(world: World) -> None:
    source = push_source_image(world.sandbox)
    plan = world.plan(_spec(world.sandbox, source=source))
    world.apply(plan, Kind.RESOURCE_GROUP, Kind.REGISTRY)
    change = world.change(plan, Kind.IMAGE_IMPORT)
    data_plane = world.connection.data_plane()
    ctx = replace(world.ctx, tag_digest=data_plane.tag_digest)
    assert world.run(change, ctx) == "imported"
    server = world.registry().as_dict()["properties"]["loginServer"]
    assert data_plane.tag_digest(server, "hello", "v1") is not None
    assert world.run(change, ctx) == "already present"


def _assign(world: World, principal_id: str, *, name: str, clients: Any = None) -> str:
    """An AcrPush assignment made outside the tool (another team, the portal)."""
    from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters

    if clients is None:
        with sdk(world.sandbox) as opened:
            return _assign(world, principal_id, name=name, clients=opened)
    scope = world.registry().id
    definition = (
        f"/subscriptions/{world.sandbox.subscription_id}"
        f"/providers/Microsoft.Authorization/roleDefinitions/{ACR_PUSH}"
    )
    body = RoleAssignmentCreateParameters(
        role_definition_id=definition, principal_id=principal_id, principal_type="ServicePrincipal"
    )
    created = clients.authorization.role_assignments.create(scope, name, body)
    return str(created.id)


def _object_id(world: World, display_name: str) -> str:
    principals = world.sandbox.state()["principals"].values()
    return str(next(p["id"] for p in principals if p["displayName"] == display_name)).lower()


def _wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.05)
