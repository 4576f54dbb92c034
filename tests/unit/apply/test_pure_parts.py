"""Pure pieces of the Azure side: SDK model parsing, scope rules, policies, export."""

from __future__ import annotations

import pytest
from azure.mgmt.containerregistry.models import Registry

from acr_reconcile.apply.handlers.trust_policy import _policies_with
from acr_reconcile.live.arm import applies_to, parse_registry
from acr_reconcile.live.state import LiveRoleAssignment

REG_ID = "/subscriptions/S1/resourceGroups/RG/providers/Microsoft.ContainerRegistry/registries/Reg1"


def _registry(**props: object) -> Registry:
    return Registry(
        {
            "id": REG_ID,
            "name": "Reg1",
            "location": "westeurope",
            "sku": {"name": "Premium", "tier": "Premium"},
            "tags": {"acr-reconcile.applied": "abc"},
            "properties": {"loginServer": "127.0.0.1:5000", **props},
        }
    )


def test_registry_model_becomes_live_registry_with_defaults() -> None:
    live = parse_registry(_registry())
    assert (live.name, live.resource_group, live.sku, live.login_server) == (
        "Reg1",
        "RG",
        "Premium",
        "127.0.0.1:5000",
    )
    assert live.trust_status == "disabled"
    assert live.role_assignment_mode == "LegacyRegistryPermissions"
    assert not live.admin_user_enabled and not live.encryption_enabled


def test_registry_trust_encryption_and_mode_are_read() -> None:
    live = parse_registry(
        _registry(
            adminUserEnabled=True,
            policies={"trustPolicy": {"type": "Notary", "status": "Enabled"}},
            encryption={"status": "enabled"},
            roleAssignmentMode="AbacRepositoryPermissions",
        )
    )
    assert live.trust_status == "enabled"
    assert live.admin_user_enabled and live.encryption_enabled
    assert live.role_assignment_mode == "AbacRepositoryPermissions"


def _assignment(scope: str) -> LiveRoleAssignment:
    return LiveRoleAssignment(
        id=f"{scope}/providers/Microsoft.Authorization/roleAssignments/x",
        name="x",
        scope=scope,
        role_definition_guid="g",
        principal_id="p",
        principal_type="ServicePrincipal",
    )


@pytest.mark.parametrize(
    ("scope", "applies"),
    [
        ("/", True),
        ("/subscriptions/s1", True),
        ("/subscriptions/S1/resourceGroups/rg", True),
        (REG_ID.lower(), True),
        ("/providers/Microsoft.Management/managementGroups/root", True),
        ("/subscriptions/S1/resourceGroups/rg2", False),
        (
            "/subscriptions/S1/resourceGroups/RG/providers/Microsoft.ContainerRegistry/registries/Reg10",
            False,
        ),
        (f"{REG_ID}/scopeMaps/x", False),
    ],
)
def test_assignment_applies_at_its_scope_and_below_only(scope: str, applies: bool) -> None:
    assert applies_to(_assignment(scope), REG_ID) is applies


def test_trust_patch_keeps_every_other_policy_and_drops_read_only_fields() -> None:
    live = _registry(
        policies={
            "quarantinePolicy": {"status": "enabled"},
            "retentionPolicy": {"days": 7, "status": "enabled", "lastUpdatedTime": "2026-01-01"},
            "trustPolicy": {"type": "Notary", "status": "enabled"},
        }
    )
    assert _policies_with(live, "disabled") == {
        "quarantinePolicy": {"status": "enabled"},
        "retentionPolicy": {"days": 7, "status": "enabled"},
        "trustPolicy": {"type": "Notary", "status": "disabled"},
    }
    assert _policies_with(_registry(), "enabled") == {
        "trustPolicy": {"type": "Notary", "status": "enabled"}
    }


def test_export_takes_only_acr_roles_held_at_the_registry_itself() -> None:
    from dataclasses import replace

    from acr_reconcile.live.export import _acr_roles_at

    push = replace(_assignment(REG_ID), role_definition_guid="8311e382-0749-4cb8-b61a-304f252e45ec")
    inherited = replace(push, scope="/subscriptions/S1", principal_id="q")
    owner = replace(push, role_definition_guid="8e3af657-a8ff-443c-a75c-2fe8c4bcb635")
    custom = replace(push, role_definition_guid="00000000-0000-0000-0000-0000000000aa")
    held = _acr_roles_at((push, inherited, owner, custom), REG_ID.lower())
    assert held == {"p": [push]}


def test_exported_signer_names_stay_unique() -> None:
    from acr_reconcile.live.export import _unique_names

    signers = [{"name": "ci"}, {"name": "ci"}, {"name": "other"}, {"name": "ci"}]
    assert [s["name"] for s in _unique_names(signers)] == ["ci", "ci-2", "other", "ci-3"]
