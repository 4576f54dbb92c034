"""``--output github``: GitHub Actions workflow commands that annotate the spec.

Each pending change becomes a ``::warning`` (drift) or ``::notice`` (anything else) and each
plan diagnostic an ``::error``/``::warning`` at the ``FILE:LINE:COL`` of the spec field it
concerns, so a pull request shows the finding on the very line. A summary line follows.
Escaping follows the workflow-command rules (``%``, CR, LF in messages; also ``:`` and
``,`` in properties).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from acr_reconcile.errors import Diagnostic
from acr_reconcile.plan.folding import folded
from acr_reconcile.plan.model import Change, Plan, Reason
from acr_reconcile.plan.render_text import shown_diff

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


def _yaml(value: Any) -> str:
    """A value as the spec author writes it (JSON is YAML): true, null, "text", never a
    Python repr (True, None, 'text')."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _detail(change: Change, trust: Change | None) -> str:
    parts = []
    for d in shown_diff(change, trust):
        if d.before is None:
            after = "(known after apply)" if d.after is None else _yaml(d.after)
            parts.append(f"{d.path} = {after}")
        elif d.after is None:
            parts.append(f"{d.path} = {_yaml(d.before)} (removed)")
        else:
            parts.append(f"{d.path}: {_yaml(d.before)} → {_yaml(d.after)}")
    return "; ".join(parts)


def _change_lines(change: Change, trust: Change | None = None) -> Iterator[str]:
    kind = "warning" if change.reason is Reason.DRIFT else "notice"
    detail = _detail(change, trust)
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
    trust = folded(plan.changes)
    hidden = {c.address for c in trust.values()}
    shown = [c for c in plan.pending if c.address not in hidden]
    for change in shown:
        lines.extend(_change_lines(change, trust.get(change.address)))
    pending = len(shown)
    drift = sum(1 for c in shown if c.reason is Reason.DRIFT)
    if plan.errors:
        lines.append(f"acr-reconcile: {len(plan.errors)} error(s); nothing can be applied")
    elif pending:
        lines.append(f"acr-reconcile: {pending} change(s) pending, {drift} of them drift")
    else:
        lines.append("acr-reconcile: no changes; live state matches the spec")
    return "\n".join(lines) + "\n"
