"""Azure SDK exceptions turned into the tool's own errors, once, at the edge.

Callers above ``live/`` and ``apply/`` never see azure-core exceptions; they see an
AzureError naming the resource, the ARM error code and the HTTP status, with
``transient`` decided here, from the exception type, the status and the ARM code.
azure-core's retry policy has already retried each request; ``transient`` tells the
executor's outer retry whether re-running the whole operation may help.
"""

from __future__ import annotations

from acr_reconcile.errors import (
    AzureError,
    TerminalAzureError,
    TransientAzureError,
    transient_status,
)
from acr_reconcile.redact import echo

# LRO failures whose code says "try again" rather than "no"
TRANSIENT_CODES = frozenset(
    {
        "InternalServerError",
        "ServiceUnavailable",
        "TooManyRequests",
        "RetryableError",
        "OperationTimedOut",
        "GatewayTimeout",
        "Conflict",
        "AnotherOperationInProgress",
        "ResourceBusy",
    }
)


def error_code(error: BaseException) -> str | None:
    odata = getattr(error, "error", None)
    code = getattr(odata, "code", None)
    return str(code) if code else None


def error_status(error: BaseException) -> int | None:
    status = getattr(error, "status_code", None)
    return int(status) if isinstance(status, int) else None


def _message(error: BaseException) -> str:
    odata = getattr(error, "error", None)
    text = getattr(odata, "message", None) or getattr(error, "reason", None) or str(error)
    first = str(text).strip().splitlines()
    # ARM's and Graph's words: redacted and cut, a service may echo what it was sent
    return echo(first[0]) if first else type(error).__name__


def is_transient(error: BaseException) -> bool:
    from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

    if isinstance(error, ServiceRequestError | ServiceResponseError | ConnectionError):
        return True
    if isinstance(error, HttpResponseError):
        code = error_code(error)
        return transient_status(error_status(error)) or code in TRANSIENT_CODES
    return False


def translate(
    error: BaseException, resource: str, doing: str, *, transient: bool | None = None
) -> AzureError:
    """An AzureError for ``error`` raised while ``doing`` something to ``resource``.

    ``transient`` overrides the classification where the caller knows more than the
    status says (a role assignment's ``PrincipalNotFound`` for a principal just made).
    """
    transient = is_transient(error) if transient is None else transient
    kind = TransientAzureError if transient else TerminalAzureError
    return kind(
        resource,
        f"{doing} failed: {_message(error)}",
        status=error_status(error),
        code=error_code(error),
        transient=transient,
    )
