"""Findings shared by many registries of a fleet are said once, with where they apply.

A 200-registry fleet would otherwise repeat "DCT is removed on 2028-03-31" 200 times and
bury the one error that matters. Errors are never merged: each needs its own fix.
"""

from __future__ import annotations

from collections.abc import Iterable

from acr_reconcile.errors import Diagnostic

SHOWN = 3  # places listed under a shared finding before "and N more"


def group_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[list[Diagnostic]]:
    """Diagnostics grouped by (severity, message), errors kept one per group, in order."""
    groups: dict[tuple[str, str], list[Diagnostic]] = {}
    for d in diagnostics:
        key = (d.severity, d.message) if d.severity != "error" else (d.severity, str(d))
        groups.setdefault(key, []).append(d)
    return list(groups.values())
