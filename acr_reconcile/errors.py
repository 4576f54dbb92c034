"""Every failure the tool reports to a user, in one hierarchy.

The CLI catches :class:`AcrReconcileError` at the top, prints ``str(error)`` and exits
with ``error.exit_code`` (1). Anything else that escapes is a bug and keeps its traceback.
Messages must be safe to print: no secrets, no tokens, and they name *where* (a spec
``FILE:LINE:COL: field.path``, a resource id, or a URL) and *why*.

Every error also says what a retry needs, as attributes set where the failure is known
(the client that saw the HTTP answer or the broken connection), never read back from the
message: ``status`` (the HTTP status, or None when there was no answer) and ``transient``
(asking again later may succeed: throttling, a server or gateway error, no connection).
The executor's outer retry reads only ``transient``.

::

    AcrReconcileError                 base; exit code 1
    ├── SpecError                     invalid spec input; carries every SpecIssue of a run
    ├── ConfigError                   environment/flags: credentials, cloud metadata, bad options
    ├── PlanError                     platform rules broken at plan time (Premium, DCT cut-off, ...)
    ├── StalePlanError                a saved plan no longer matches live state
    ├── PlanMismatchError             a saved plan is not what its documents plan (edited?)
    ├── AzureError                    an Azure (or sandbox) call failed after retries
    │   ├── TransientAzureError       429/5xx/connection trouble that outlived its retries
    │   └── TerminalAzureError        a refusal retrying cannot fix (400, 403, 409 ...)
    ├── ApplyError                    apply ended with failed actions (summary of them)
    ├── FileWriteError                a plan, key or trust cache file cannot be written
    ├── RegistryError                 registry data plane: auth refused, manifest missing
    ├── TrustError                    Notary v1 / TUF
    │   ├── TrustDataInvalid          signature, threshold, hash, version or expiry check failed
    │   ├── SigningKeyError           a key or passphrase needed to sign is missing or wrong
    │   └── TrustServerError          the trust server refused or failed a request
    │       └── VersionConflict       someone published first (trust/notary.py; re-read, merge)
    └── SandboxError                  the local sandbox cannot start or answer
"""

from __future__ import annotations

from dataclasses import dataclass, field

# HTTP statuses where asking again later may succeed: timeout, throttling, server trouble
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})


def transient_status(status: int | None) -> bool:
    return status in TRANSIENT_STATUS


class AcrReconcileError(Exception):
    """Base of every user-facing error; the CLI turns it into a message and exit code 1."""

    exit_code: int = 1
    # what a retry needs (see the module docstring); errors of a server answer set them
    status: int | None = None
    transient: bool = False


@dataclass(frozen=True, order=True)
class SpecIssue:
    """One problem in a spec file, located as precisely as the input allows."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class SpecError(AcrReconcileError):
    """The spec input is invalid; all issues of the run are reported together."""

    def __init__(self, issues: list[SpecIssue]) -> None:
        self.issues = sorted(issues)
        # The count goes on its own first line so every issue line starts with FILE:LINE:COL
        # (the CLI prefixes the first line with "error: "), which editors and CI parse.
        header = f"{len(self.issues)} problem(s) in the spec input"
        super().__init__("\n".join([header, *(str(i) for i in self.issues)]))


class ConfigError(AcrReconcileError):
    """The environment or the command line is wrong (credentials, cloud endpoints, flags)."""


@dataclass(frozen=True)
class Diagnostic:
    """A plan-time finding about one resource; ``severity`` is ``error`` or ``warning``."""

    severity: str
    resource: str
    message: str
    location: str | None = None  # "FILE:LINE:COL: field.path" of the spec field concerned
    details: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        prefix = f"{self.location}: " if self.location else ""
        return f"{prefix}{self.severity}: {self.resource}: {self.message}"


class PlanError(AcrReconcileError):
    """Planning found errors: the platform would refuse the change, so nothing is applied."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        super().__init__("\n".join(str(d) for d in diagnostics))


class StalePlanError(AcrReconcileError):
    """A saved plan was made against live state that has changed since."""

    def __init__(self, explanations: list[str]) -> None:
        self.explanations = explanations
        lines = ["the saved plan is stale: live state changed since it was made"]
        lines += [f"  - {e}" for e in explanations]
        lines.append("run plan again and review the new plan")
        super().__init__("\n".join(lines))


class PlanMismatchError(AcrReconcileError):
    """A saved plan asks for changes its documents do not plan, or reaches outside them."""

    def __init__(self, path: str, why: str, problems: list[str]) -> None:
        self.problems = problems
        lines = [f"{path}: the saved plan is refused: {why}; nothing was changed"]
        lines += [f"  - {p}" for p in problems]
        lines.append("a plan file must be applied as plan wrote it: run plan again")
        super().__init__("\n".join(lines))


class AzureError(AcrReconcileError):
    """An Azure call failed; ``resource`` names what was being read or changed."""

    def __init__(
        self,
        resource: str,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        transient: bool | None = None,
    ) -> None:
        self.resource = resource
        self.status = status
        self.code = code
        self.transient = transient_status(status) if transient is None else transient
        detail = f" ({code}, HTTP {status})" if code and status else ""
        super().__init__(f"{resource}: {message}{detail}")


class TransientAzureError(AzureError):
    """Throttling, server errors or connection trouble that outlived the retry budget."""


class TerminalAzureError(AzureError):
    """A refusal that retrying cannot fix."""


class ApplyError(AcrReconcileError):
    """Apply finished, but some actions failed; dependents of a failure were skipped."""

    def __init__(self, failures: list[str], skipped: list[str]) -> None:
        self.failures = failures
        self.skipped = skipped
        lines = [f"apply failed: {len(failures)} action(s) failed"]
        lines += [f"  - {f}" for f in failures]
        if skipped:
            lines.append(f"skipped {len(skipped)} dependent action(s): {', '.join(skipped)}")
        lines.append("nothing else was changed; run apply again once the cause is fixed")
        super().__init__("\n".join(lines))


class FileWriteError(AcrReconcileError):
    """A local file (plan, key, trust cache) cannot be written: disk full, quota, size
    limit, permissions. The previous file is left as it was."""


class RegistryError(AcrReconcileError):
    """The registry data plane refused or failed (token exchange, scopes, manifests).

    ``status`` is the registry's or token service's HTTP answer; ``transient`` defaults to
    what that status says, and is set explicitly for a connection that broke or never came.
    """

    def __init__(
        self, message: str, *, status: int | None = None, transient: bool | None = None
    ) -> None:
        self.status = status
        self.transient = transient_status(status) if transient is None else transient
        super().__init__(message)


class TrustError(AcrReconcileError):
    """Base of Notary v1 / TUF problems."""


class TrustDataInvalid(TrustError):
    """Trust data failed verification; never reported as merely "unsigned"."""


class SigningKeyError(TrustError):
    """A signing key or its passphrase is missing or wrong."""


class TrustServerError(TrustError):
    """The trust server refused or failed a request."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        transient: bool | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.transient = transient_status(status) if transient is None else transient
        super().__init__(message)


class SandboxError(AcrReconcileError):
    """The local sandbox cannot start, or one of its parts is missing or unhealthy."""
