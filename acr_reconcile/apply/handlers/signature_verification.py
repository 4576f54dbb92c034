"""The verification between a migration's signatures and its trust disable.

It writes nothing: it reads the signatures of every digest of the DCT inventory this
run wrote and verifies them (``apply/migration.py``); the trust disable of the
migration runs only once it passed.
"""

from __future__ import annotations

from collections.abc import Sequence

from acr_reconcile.apply.context import ApplyContext
from acr_reconcile.apply.keyvault_access import until_authorized
from acr_reconcile.errors import AcrReconcileError
from acr_reconcile.plan.model import Change, SignatureVerificationParams


def apply(changes: Sequence[Change], ctx: ApplyContext) -> str:
    change = changes[0]
    params = change.params_as(SignatureVerificationParams)
    verify = ctx.verify_carried
    if verify is None:
        raise AcrReconcileError(f"{change.address}: no registry to verify signatures in")
    vault = params.key_vault or params.certificate_file or ""
    return until_authorized(lambda: verify(change), vault, params.wait_for_roles, ctx)
