"""The role assignments as stored, and dropping those beneath a resource that is gone.

Apart from ``roleassignments.py`` (the API, which checks scopes against registries and
resource groups) because every provider's delete needs ``delete_beneath``: here it
imports nothing of theirs.
"""

from __future__ import annotations

from typing import Any

from acr_sandbox.context import Sandbox
from acr_sandbox.directory import within


def assignments(sandbox: Sandbox) -> dict[str, dict[str, Any]]:
    return sandbox.store.section("roleAssignments")


def delete_beneath(sandbox: Sandbox, scope: str) -> None:
    """Drop assignments at ``scope`` or below (the resource is gone)."""
    doomed = [k for k, a in assignments(sandbox).items() if within(a["properties"]["scope"], scope)]
    for key in doomed:
        del assignments(sandbox)[key]
    if doomed:
        sandbox.store.changed()
