"""Waiting for Key Vault to honour a role assignment this apply made.

Key Vault's data plane caches authorization: a new role assignment takes minutes to count
(up to ten are reported: Azure/devops-governance#22, Azure/azure-dev#2742), and until then
the vault answers 403 ``ForbiddenByRbac``. An apply that granted a Key Vault role retries a
403 within a bounded window and says, while it waits, what it waits for; an apply that
granted nothing never waits (a 403 then is a real refusal, reported at once).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from acr_reconcile.apply.context import ApplyContext
from acr_reconcile.errors import AzureError

T = TypeVar("T")
POLL_SECONDS = 5.0


def _forbidden(error: BaseException) -> bool:
    """A 403, from the SDK (``status_code``) or already translated (``status``)."""
    return 403 in (getattr(error, "status_code", None), getattr(error, "status", None))


def until_authorized(
    operation: Callable[[], T],
    vault: str,
    granted: bool,
    ctx: ApplyContext,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """``operation()``; while it gets 403 and ``granted``, again until the window ends."""
    from azure.core.exceptions import HttpResponseError

    started = clock()
    while True:
        try:
            return operation()
        except (HttpResponseError, AzureError) as error:
            waited = clock() - started
            if not (granted and _forbidden(error)):
                raise
            if waited >= ctx.key_vault_window:
                raise AzureError(
                    f"key vault {vault}",
                    f"still 403 after waiting {waited:.0f}s for the new "
                    "Key Vault role assignment to take effect (Azure documents up to 10 "
                    "minutes); run apply again later, nothing else is left half done",
                    status=403,
                    code="ForbiddenByRbac",
                    transient=False,
                ) from None
            ctx.say(
                f"key vault {vault}: waiting for the new Key Vault role assignment to take "
                f"effect (403 so far; Key Vault takes up to 10 minutes; waited {waited:.0f}s "
                f"of at most {ctx.key_vault_window:.0f}s)"
            )
            sleep(min(POLL_SECONDS, max(0.0, ctx.key_vault_window - waited)))
