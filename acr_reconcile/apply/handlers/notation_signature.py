"""Notary Project signatures: the handler of the ``notation-signature`` kind.

Signing in apply is not built yet: a change of this kind is refused, naming it, and
nothing is written for it.
"""

from __future__ import annotations

from collections.abc import Sequence

from acr_reconcile.apply.context import ApplyContext
from acr_reconcile.errors import AcrReconcileError
from acr_reconcile.plan.model import Change, NotationSignatureParams


def apply(changes: Sequence[Change], ctx: ApplyContext) -> str:
    del ctx
    change = changes[0]
    change.params_as(NotationSignatureParams)
    raise AcrReconcileError(
        f"{change.address}: this version of acr-reconcile does not make or remove Notary "
        "Project signatures in apply; nothing was written for it"
    )
