"""Derived identities: role-assignment names."""

from __future__ import annotations

import uuid

from acr_reconcile.plan.names import role_assignment_name

SCOPE = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
    "Microsoft.ContainerRegistry/registries/registrydavid"
)
PRINCIPAL = "aaaaaaaa-0000-0000-0000-000000000001"
ACR_PUSH = "8311e382-0749-4cb8-b61a-304f252e45ec"


def test_role_assignment_name_is_a_stable_uuid5_ignoring_case() -> None:
    name = role_assignment_name(SCOPE, PRINCIPAL, ACR_PUSH)
    assert uuid.UUID(name).version == 5
    assert name == role_assignment_name(SCOPE.upper(), PRINCIPAL.upper(), ACR_PUSH.upper())
    # pinned: changing the namespace or key format would rename every assignment ever made
    assert name == "ccccf223-e8cc-5d9c-900f-cf78505aeecd"
    assert name != role_assignment_name(SCOPE, PRINCIPAL, "7f951dda-4ed3-4680-a7ca-43fe172d538d")
    assert name != role_assignment_name(SCOPE + "x", PRINCIPAL, ACR_PUSH)
