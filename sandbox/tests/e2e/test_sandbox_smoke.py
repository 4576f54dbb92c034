"""The session sandbox answers the real SDK with the seeded owner's credential."""

from __future__ import annotations

from acr_sandbox.testing import SandboxHandle


def test_seeded_owner_creates_and_reads_a_resource_group(sandbox: SandboxHandle) -> None:
    sandbox.reset_state()
    groups = sandbox.clients().resources.resource_groups
    assert not groups.check_existence("smoke-rg")
    groups.create_or_update("smoke-rg", {"location": "westeurope"})
    assert groups.get("smoke-rg").location == "westeurope"
    assert sandbox.status()["healthy"]
