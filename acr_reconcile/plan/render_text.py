"""The plan for a person at a terminal, in Terraform's shape.

``+`` create, ``~`` update, ``-`` delete; each change with its reason in brackets and one
``before → after`` line per attribute; then the findings with their spec locations; then
one "Plan: N to add, N to change, N to destroy." line. A fleet ends with one summary table.
Colour only when asked (``color=True`` on a TTY); otherwise the text is plain. On a
terminal every line fits its width (render_wrap.py); in a log each change is one line.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from acr_reconcile.errors import Diagnostic
from acr_reconcile.plan.folding import folded, shown_counts
from acr_reconcile.plan.grouping import SHOWN, group_diagnostics
from acr_reconcile.plan.model import Action, AttributeChange, Change, Plan, Reason, TargetSummary
from acr_reconcile.plan.names import target_key
from acr_reconcile.plan.render_wrap import fit_all

_STYLE = {Action.CREATE: "green", Action.UPDATE: "yellow", Action.DELETE: "red", Action.NOOP: "dim"}
_SEVERITY = {"error": ("Error", "bold red"), "warning": ("Warning", "yellow")}
_WIDTH = 120


def _value(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def shown_diff(change: Change, trust: Change | None = None) -> list[AttributeChange]:
    """The attribute lines worth reading: on a create, nothing for what the spec leaves
    unset (an empty ``tags`` mapping); the folded trust policy as ``contentTrust``."""
    diff = [
        d
        for d in change.diff
        if not (change.action is Action.CREATE and d.before is None and d.after in ({}, []))
    ]
    if trust is not None and trust.after is not None:
        diff.append(AttributeChange("contentTrust", None, trust.after.get("status")))
    return sorted(diff, key=lambda d: d.path)


def _created_value(value: Any) -> str:
    return "(known after apply)" if value is None else _value(value)


def _attribute_lines(change: Change, trust: Change | None = None) -> Iterable[Text]:
    for d in shown_diff(change, trust):
        if change.action is Action.CREATE or d.before is None:
            line = f"{d.path} = {_created_value(d.after)}"
            yield Text.assemble("        ", ("+ ", "green"), line)
        elif change.action is Action.DELETE or d.after is None:
            yield Text.assemble("        ", ("- ", "red"), f"{d.path} = {_value(d.before)}")
        else:
            line = f"{d.path}: {_value(d.before)} → {_value(d.after)}"
            yield Text.assemble("        ", ("~ ", "yellow"), line)


def _change_lines(change: Change, trust: Change | None = None) -> Iterable[Text]:
    glyph = change.action.glyph if change.is_change else "="
    style = _STYLE[change.action]
    yield Text.assemble(
        "  ", (f"{glyph} ", style), change.summary, ("  ", ""), (f"[{change.reason.value}]", "dim")
    )
    if change.destroys_trust and change.is_change:
        yield Text("        ! deletes every signature in the registry, for good", style="bold red")
    yield from _attribute_lines(change, trust)


def _visible(change: Change, show_unchanged: bool) -> bool:
    return change.is_change or show_unchanged or change.reason is Reason.ADOPTED


def _target_lines(plan: Plan, show_unchanged: bool) -> Iterable[Text]:
    by_target: dict[str, list[Change]] = {}
    trust = folded(plan.changes)
    hidden = {c.address for c in trust.values()}
    for change in plan.changes:
        if _visible(change, show_unchanged) and change.address not in hidden:
            by_target.setdefault(change.target, []).append(change)
    titles = {target_key(t.subscription_id, t.registry): t for t in plan.targets}
    for key, changes in by_target.items():
        target = titles.get(key)
        title = f"{target.registry} ({target.resource_group}, {target.source})" if target else key
        yield Text(f"# {title}", style="bold")
        for change in changes:
            yield from _change_lines(change, trust.get(change.address))
        yield Text("")


def _diagnostic_lines(diagnostics: Iterable[Diagnostic]) -> Iterable[Text]:
    for group in group_diagnostics(diagnostics):
        first = group[0]
        label, style = _SEVERITY.get(first.severity, ("Note", "cyan"))
        yield Text.assemble((f"{label}: ", style), first.message)
        for d in group[:SHOWN]:
            where = f" at {d.location}" if d.location else ""
            yield Text(f"  on {d.resource}{where}", style="dim")
        if len(group) > SHOWN:
            yield Text(f"  and {len(group) - SHOWN} more", style="dim")


def _closing_lines(plan: Plan) -> Iterable[Text]:
    n = shown_counts(plan)
    if plan.errors:
        yield Text(f"Plan has {len(plan.errors)} error(s); nothing can be applied.", "bold red")
    if plan.has_changes:
        yield Text(
            f"Plan: {n['add']} to add, {n['change']} to change, {n['destroy']} to destroy.",
            style="bold",
        )
    elif not plan.errors:
        yield Text("No changes. Live state matches the spec.", style="bold green")
    if plan.destroys_trust:
        yield Text(
            "This plan disables content trust, which deletes every signature for good: "
            "apply needs --allow-destroy-trust.",
            style="bold red",
        )


def _file_line(source: str) -> str:
    """``FILE:LINE`` of a document (its column is always 1): room for the names."""
    head, _, column = source.rpartition(":")
    return head if column == "1" and head.rpartition(":")[2].isdigit() else source


def summary_table(
    targets: Iterable[TargetSummary], *, color: bool = False, plan: Plan | None = None
) -> Table:
    """One row per registry: the fleet at a glance (ASCII lines in logs). With ``plan``,
    the changes column counts as the plan's closing line does (plan/folding.py). The
    subscription column appears when the fleet spans several (an 80-column terminal has
    no room for a GUID that says nothing); cells fold, never truncate."""
    rows = list(targets)
    several = len({t.subscription_id.lower() for t in rows}) > 1
    table = Table(
        title="Summary",
        title_justify="left",
        box=box.HEAVY_HEAD if color else box.ASCII,
        show_edge=False,  # 4 columns back: the names fit 80 columns unfolded
    )
    columns = ["registry", "resource group", *(["subscription"] if several else [])]
    for column in [*columns, "status", "changes", "spec"]:
        table.add_column(
            column, justify="right" if column == "changes" else "left", overflow="fold"
        )
    style = {"in-sync": "green", "drift": "yellow", "pending": "cyan", "error": "red"}
    for t in rows:
        status = Text(t.status, style=style.get(t.status, ""))
        changes = t.changes
        if plan is not None:
            changes = sum(shown_counts(plan, target_key(t.subscription_id, t.registry)).values())
        where = [t.registry, t.resource_group, *([t.subscription_id] if several else [])]
        table.add_row(*where, status, str(changes), _file_line(t.source))
    return table


def _console(out: io.StringIO, color: bool, width: int) -> Console:
    return Console(
        file=out,
        width=width,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        highlight=False,
        emoji=False,
        soft_wrap=True,
    )


def render_text(
    plan: Plan,
    *,
    color: bool = False,
    show_unchanged: bool = False,
    diagnostics: bool = True,
    width: int | None = None,
) -> str:
    """The whole plan as text; ANSI colours only when ``color`` is true. The CLI passes
    ``diagnostics=False`` and prints them on stderr (render_diagnostics.py), and on a
    terminal its ``width``: every line is folded to it and the fleet table fits it. With
    no width (a pipe, a file) no line is folded and the table is 120 columns wide."""
    lines = list(_target_lines(plan, show_unchanged))
    if diagnostics:
        lines += _diagnostic_lines(plan.diagnostics)
        if plan.diagnostics:
            lines.append(Text(""))
    lines += _closing_lines(plan)
    if width is not None:  # a terminal: fold to it (render_wrap.py); a log keeps its lines
        lines = fit_all(lines, width)
    out = io.StringIO()
    console = _console(out, color, width or _WIDTH)
    # the body in one go: per-line printing through rich is most of the cost on a large fleet
    if color:
        console.print(Text("\n").join(lines))
    else:
        out.write("".join(f"{t.plain}\n" for t in lines))
    if len(plan.targets) > 1:
        console.print()
        console.print(summary_table(plan.targets, color=color, plan=plan))
    return out.getvalue()
