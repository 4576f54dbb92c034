"""The generic resource list's ``$filter``: the clauses ARM documents for Resources_List,
and ARM's 400 for the rest."""

from __future__ import annotations

from typing import Any

import pytest

from acr_sandbox.arm.errors import ArmError
from acr_sandbox.arm.resources import generic, parse_filter

REGISTRY: dict[str, Any] = {
    "id": "/subscriptions/s/resourceGroups/Team-A/providers/Microsoft.ContainerRegistry"
    "/registries/Reg1",
    "name": "Reg1",
    "type": "Microsoft.ContainerRegistry/registries",
    "location": "westeurope",
    "sku": {"name": "Premium", "tier": "Premium"},
    "tags": {},
    "properties": {"loginServer": "127.0.0.1:1"},
}


def _keeps(raw: str) -> bool:
    return all(p(REGISTRY) for p in parse_filter(raw))


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("resourceType eq 'Microsoft.ContainerRegistry/registries'", True),
        ("resourcetype EQ 'microsoft.containerregistry/REGISTRIES'", True),
        ("resourceType ne 'Microsoft.ContainerRegistry/registries'", False),
        ("name eq 'reg1' and resourceGroup eq 'team-a'", True),
        ("name eq 'reg1' and resourceGroup eq 'team-b'", False),
        ("location eq 'West Europe'", True),
        ("substringof('eg', name)", True),
        (
            "substringof('team', resourceGroup) and resourceType eq 'Microsoft.KeyVault/vaults'",
            False,
        ),
        ("name eq 'it''s'", False),
        ("", True),
    ],
)
def test_documented_clauses(raw: str, kept: bool) -> None:
    assert _keeps(raw) is kept


@pytest.mark.parametrize(
    "raw",
    [
        "tagName eq 'x'",
        "plan/publisher eq 'x'",
        "name gt 'a'",
        "resourceType eq 'x' or name eq 'y'",
        "substringof('x', location)",
        "name eq unquoted",
    ],
)
def test_other_filters_are_arms_400(raw: str) -> None:
    with pytest.raises(ArmError) as refused:
        parse_filter(raw)
    assert (refused.value.status, refused.value.code) == (400, "InvalidFilterInQueryString")
    assert raw in refused.value.message


def test_the_generic_view_leaves_out_properties() -> None:
    assert generic(REGISTRY) == {
        k: REGISTRY[k] for k in ("id", "name", "type", "sku", "location", "tags")
    }
