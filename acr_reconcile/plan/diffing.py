"""Attribute-level differences between a change's before and after, as dotted paths.

Renderers and the JSON output show ``tags.env: "dev" → "prod"`` rather than whole
objects, so a reviewer sees exactly which attribute moves; deepdiff finds them, and
this module turns its paths into the dotted form the spec locations also use.
"""

from __future__ import annotations

from typing import Any

from deepdiff import DeepDiff

from acr_reconcile.plan.model import AttributeChange


def _present(value: Any) -> Any:
    """deepdiff marks a missing side with a ``NotPresent`` object; the plan says None."""
    return None if type(value).__name__ == "NotPresent" else value


def _leaves(value: Any, path: str) -> list[tuple[str, Any]]:
    """A created or deleted object's attributes; empty mappings stay a leaf (``tags = {}``)."""
    if isinstance(value, dict) and value:
        found: list[tuple[str, Any]] = []
        for key, item in value.items():
            found += _leaves(item, f"{path}.{key}" if path else str(key))
        return found
    return [(path, value)]


def attribute_diff(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> tuple[AttributeChange, ...]:
    """Leaf-level changes from ``before`` to ``after`` (None means absent), sorted by path.

    Creates, deletes and unchanged objects (most of a plan) skip deepdiff: it is the
    planner's main cost on a large fleet and has nothing to find there.
    """
    if before == after:
        return ()
    if not before or not after:
        side = before or after
        pairs = [(p, v) for p, v in _leaves(side or {}, "") if p]
        changes = [
            AttributeChange(p, None, v) if not before else AttributeChange(p, v, None)
            for p, v in pairs
        ]
        return tuple(sorted(changes, key=lambda c: c.path))
    tree = DeepDiff(before, after, view="tree", threshold_to_diff_deeper=0)
    changes = []
    for levels in tree.values():
        for level in levels:
            parts = level.path(output_format="list")
            path = ".".join(str(p) for p in parts)
            changes.append(AttributeChange(path, _present(level.t1), _present(level.t2)))
    return tuple(sorted(changes, key=lambda c: c.path))
