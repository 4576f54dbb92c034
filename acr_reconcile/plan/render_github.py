"""``--output github``: GitHub Actions workflow commands that annotate the spec.

Each pending change becomes a ``::warning`` (drift) or ``::notice`` (anything else) and each
plan diagnostic an ``::error``/``::warning`` at the ``FILE:LINE:COL`` of the spec field it
concerns, so a pull request shows the finding on the very line. A summary line follows.
Escaping follows the workflow-command rules (``%``, CR, LF in messages; also ``:`` and
``,`` in properties).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from acr_reconcile.errors import Diagnostic
from acr_reconcile.plan.model import Change, Plan, Reason

_LOCATION = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+)(?::\s*(?P<path>.*))?$")


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _command(kind: str, message: str, location: str | None, title: str) -> str:
    props = [f"title={_escape_property(title)}"]
    match = _LOCATION.match(location or "")
    if match:
        props = [
            f"file={_escape_property(match['file'])}",
            f"line={match['line']}",
            f"col={match['col']}",
            *props,
        ]
    return f"::{kind} {','.join(props)}::{_escape_data(message)}"


def _change_lines(change: Change) -> Iterator[str]:
    kind = "warning" if change.reason is Reason.DRIFT else "notice"
    detail = "; ".join(f"{d.path}: {d.before!r} → {d.after!r}" for d in change.diff)
    message = f"{change.action.glyph} {change.summary} [{change.reason.value}]"
    if detail:
        message += f"\n{detail}"
    title = f"acr-reconcile: {change.kind.value} {change.action.value}"
    yield _command(kind, message, change.spec_location, title)


def _diagnostic_line(diagnostic: Diagnostic) -> str:
    kind = "error" if diagnostic.severity == "error" else "warning"
    return _command(kind, diagnostic.message, diagnostic.location, diagnostic.resource)


def render_github(plan: Plan) -> str:
    """The plan as workflow commands, one per line, ending with a plain summary line."""
    lines = [_diagnostic_line(d) for d in plan.diagnostics]
    for change in plan.pending:
        lines.extend(_change_lines(change))
    pending = len(plan.pending)
    drift = sum(1 for c in plan.pending if c.reason is Reason.DRIFT)
    if plan.errors:
        lines.append(f"acr-reconcile: {len(plan.errors)} error(s); nothing can be applied")
    elif pending:
        lines.append(f"acr-reconcile: {pending} change(s) pending, {drift} of them drift")
    else:
        lines.append("acr-reconcile: no changes; live state matches the spec")
    return "\n".join(lines) + "\n"
