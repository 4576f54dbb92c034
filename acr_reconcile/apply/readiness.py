"""The apply gate for what only writes need: signing keys and passphrases.

The planner reports each gap as a warning marked ``blocks: apply`` (a plan is complete
without signing material, so read-only jobs never fail for lack of it). Apply checks the
plan it is about to carry out, made from live state and this run's environment, and
refuses before its first write, naming every gap at once. A new kind of signing material
(Notation keys in Key Vault, ...) only has to report its gaps the same way.
"""

from __future__ import annotations

from acr_reconcile.errors import Diagnostic, SigningKeyError
from acr_reconcile.plan.context import BLOCKS, BLOCKS_APPLY
from acr_reconcile.plan.model import Plan


def apply_blockers(plan: Plan) -> list[Diagnostic]:
    return [d for d in plan.diagnostics if d.details.get(BLOCKS) == BLOCKS_APPLY]


def require_ready(plan: Plan) -> None:
    """Raise when the plan's writes need something this run lacks; nothing is changed."""
    blockers = apply_blockers(plan)
    if not blockers:
        return
    lines = [f"apply cannot start: {len(blockers)} problem(s) with signing material"]
    lines += [f"  {d.location + ': ' if d.location else ''}{d.message}" for d in blockers]
    lines.append("nothing was changed; provide what is missing and run apply again")
    raise SigningKeyError("\n".join(lines))
