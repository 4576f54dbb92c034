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
from acr_reconcile.plan.model import Plan, RoleAssignmentParams


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


def _caller_grants(plan: Plan) -> dict[str, str]:
    return {
        c.address: c.summary
        for c in plan.pending
        if isinstance(c.params, RoleAssignmentParams) and c.params.for_caller
    }


def require_same_caller(saved: Plan, fresh: Plan) -> None:
    """A saved plan grants Key Vault roles to the identity that made it; the identity
    applying it must need no other grant (a read-only identity plans, a pipeline applies:
    then the plan must be made as the one that applies, or give it the roles first)."""
    missing = [
        summary
        for address, summary in _caller_grants(fresh).items()
        if address not in _caller_grants(saved)
    ]
    if not missing:
        return
    lines = [
        "apply cannot start: the identity running apply needs Key Vault roles this "
        "saved plan does not grant (it was made by another identity):"
    ]
    lines += [f"  {summary}" for summary in missing]
    lines.append(
        "nothing was changed; plan again as the identity that applies, or give it these roles first"
    )
    raise SigningKeyError("\n".join(lines))
