"""``--output markdown``: the plan as a pull-request comment.

Reviewers see the verdict first, then the findings, then one collapsed section per
registry (a ``diff`` block, so GitHub colours additions and deletions), and the fleet's
summary table last. Registries in sync get no section: the table already says so.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from acr_reconcile.errors import Diagnostic
from acr_reconcile.plan.folding import folded, shown_counts
from acr_reconcile.plan.grouping import SHOWN, group_diagnostics
from acr_reconcile.plan.model import Action, Change, Plan, TargetSummary
from acr_reconcile.plan.names import target_key
from acr_reconcile.plan.render_text import shown_diff

COMMENT_LIMIT = 60_000  # GitHub's limit is 65,536 characters; keep a margin for wrappers
_DIFF_GLYPH = {Action.CREATE: "+", Action.UPDATE: "!", Action.DELETE: "-", Action.NOOP: " "}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _value(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _verdict(plan: Plan) -> str:
    n = shown_counts(plan)
    if plan.errors:
        return f"**Plan has {len(plan.errors)} error(s); nothing can be applied.**"
    if not plan.has_changes:
        return "**No changes.** Live state matches the spec."
    return f"**Plan: {n['add']} to add, {n['change']} to change, {n['destroy']} to destroy.**"


def _diagnostics(diagnostics: Iterable[Diagnostic]) -> list[str]:
    lines = []
    labels = {"error": "Error", "warning": "Warning"}
    for group in group_diagnostics(diagnostics):
        first = group[0]
        places = [f"`{d.location}`" for d in group[:SHOWN] if d.location]
        if len(group) > SHOWN:
            places.append(f"and {len(group) - SHOWN} more")
        where = f" ({', '.join(places)})" if places else ""
        lines.append(f"- **{labels.get(first.severity, 'Note')}**: {first.message}{where}")
    return lines


def _change_block(change: Change, trust: Change | None = None) -> list[str]:
    glyph = _DIFF_GLYPH[change.action]
    lines = [f"{glyph} {change.summary}  [{change.reason.value}]"]
    if change.destroys_trust:
        lines.append("-     deletes every signature in the registry, for good")
    for d in shown_diff(change, trust):
        if d.before is None:
            shown = "(known after apply)" if d.after is None else _value(d.after)
            lines.append(f"+     {d.path} = {shown}")
        elif d.after is None:
            lines.append(f"-     {d.path} = {_value(d.before)}")
        else:
            lines.append(f"!     {d.path}: {_value(d.before)} → {_value(d.after)}")
    return lines


def _section(target: TargetSummary, changes: list[Change]) -> list[str]:
    trust = folded(changes)
    hidden = {c.address for c in trust.values()}
    shown = [c for c in changes if c.address not in hidden]
    title = f"<b>{target.registry}</b> ({target.resource_group}): {target.status}"
    lines = ["<details>", f"<summary>{title}, {len(shown)} change(s)</summary>", ""]
    lines.append("```diff")
    for change in shown:
        lines.extend(_change_block(change, trust.get(change.address)))
    lines += ["```", "", "</details>", ""]
    return lines


def _table(plan: Plan) -> list[str]:
    lines = [
        "| Registry | Resource group | Subscription | Status | Add | Change | Destroy |",
        "| --- | --- | --- | --- | ---: | ---: | ---: |",
    ]
    for t in plan.targets:
        n = shown_counts(plan, target_key(t.subscription_id, t.registry))
        row = [t.registry, t.resource_group, t.subscription_id, t.status]
        row += [str(n[k]) for k in ("add", "change", "destroy")]
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    return lines


def _sections(plan: Plan, budget: int) -> list[str]:
    """Per-registry details while they fit ``budget`` characters; then say what was left out."""
    lines: list[str] = []
    left_out = 0
    for target in plan.targets:
        key = target_key(target.subscription_id, target.registry)
        changes = [c for c in plan.pending if c.target == key]
        if not changes:
            continue
        section = _section(target, changes)
        size = sum(len(line) + 1 for line in section)
        if left_out or size > budget:
            left_out += 1
            continue
        budget -= size
        lines += section
    if left_out:
        lines += [
            f"_Details of {left_out} more registries are left out to fit a comment; "
            "`plan --output json` has them all._",
            "",
        ]
    return lines


def render_markdown(plan: Plan, *, max_chars: int = COMMENT_LIMIT) -> str:
    """A self-contained markdown comment: verdict, findings, per-registry details, table.

    GitHub refuses comments over 65,536 characters, so details that do not fit within
    ``max_chars`` are left out (the verdict, findings and table always stay).
    """
    head = ["### acr-reconcile plan", "", _verdict(plan), ""]
    if plan.destroys_trust:
        head += [
            "> [!CAUTION]",
            "> This plan disables content trust, which deletes every signature for good; "
            "apply needs `--allow-destroy-trust`.",
            "",
        ]
    if plan.diagnostics:
        head += [*_diagnostics(plan.diagnostics), ""]
    table = _table(plan)
    fixed = sum(len(line) + 1 for line in head + table) + 200  # room for the left-out note
    lines = head + _sections(plan, max_chars - fixed) + table
    return "\n".join(lines) + "\n"
