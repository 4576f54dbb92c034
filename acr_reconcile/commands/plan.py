"""`acr-reconcile plan SPEC...`: read live state, show the changes that would make it match.

Read-only by construction: the readers only list, get and check names. Exit codes are
the CI contract: 0 in sync, 1 any error, 2 changes pending (with --detailed-exitcode).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from collections.abc import Sequence

    from acr_reconcile.commands.connection import Connection
    from acr_reconcile.errors import Diagnostic
    from acr_reconcile.live.state import LiveState
    from acr_reconcile.plan.model import Plan
    from acr_reconcile.spec.document import SpecDocument

OUTPUTS = ("text", "json", "markdown", "github")
EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2


def add_common(p: argparse.ArgumentParser) -> None:
    """Options plan and apply share."""
    p.add_argument("--output", choices=OUTPUTS, default="text", help="plan format (default text)")
    p.add_argument(
        "--parallelism",
        type=int,
        default=10,
        metavar="N",
        help="concurrent Azure reads and writes (default 10)",
    )
    p.add_argument("--shard", metavar="I/N", help="take only shard I of N of the documents")
    p.add_argument(
        "--dct-inventory",
        metavar="FILE",
        help="the DCT inventory of a migration from Docker Content Trust: apply writes it "
        "before it disables trust; once trust is disabled, plan and apply read it to finish "
        "(default: dct-inventory-<registry>-<UTC date>.json here, the newest for reading)",
    )


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "plan",
        help="show the changes that would make Azure match the spec (read-only)",
        description="Read live state and print the ordered changes that would make it match.",
    )
    p.add_argument("spec", nargs="+", metavar="SPEC", help="spec files or directories")
    p.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 2 when changes are pending (0 in sync, 1 error)",
    )
    p.add_argument(
        "--fail-on",
        choices=("any", "drift"),
        default=None,
        help="with --detailed-exitcode: exit 2 for any pending change (default), or only "
        "when live state drifted from what was applied (spec changes then exit 0)",
    )
    p.add_argument("--out", metavar="FILE", help="save the plan (for `apply FILE`)")
    add_common(p)
    p.set_defaults(run=run)


@dataclass
class Planned:
    documents: list[SpecDocument]
    live: LiveState
    plan: Plan


def load_documents(paths: list[str], shard: str | None) -> list[SpecDocument]:
    import sys

    from acr_reconcile.spec.loader import load_paths, skipped_note

    skipped: list[str] = []
    documents = load_paths(paths, skipped=skipped)
    note = skipped_note(skipped)
    if note:
        print(note, file=sys.stderr)
    if shard:
        from acr_reconcile.plan.shard import parse_shard, select

        documents = select(documents, parse_shard(shard))
    return documents


def check_parallelism(value: int) -> int:
    from acr_reconcile.errors import ConfigError

    if value < 1:
        raise ConfigError(f"--parallelism {value}: must be at least 1")
    return value


def plan_documents(
    documents: list[SpecDocument],
    connection: Connection,
    parallelism: int,
    dct_inventory: str | None = None,
) -> Planned:
    """Read what the documents depend on and plan; pure from here on. ``dct_inventory``:
    the ``--dct-inventory`` file a migration whose trust is disabled finishes from."""
    from acr_reconcile.live.dct_read import read_dct, read_evidence
    from acr_reconcile.live.reader import read_live
    from acr_reconcile.plan.planner import plan

    data_plane = connection.data_plane()
    live = read_live(
        documents,
        connection.session,
        connection.graph,
        parallelism=parallelism,
        images=data_plane.read,
        signing=data_plane.readiness() if any(d.spec.images for d in documents) else None,
        dct=lambda registry: read_dct(data_plane, registry),
        notation=data_plane.registry,
        dct_file=lambda registry: read_evidence(data_plane, registry, dct_inventory),
    )
    return Planned(documents, live, plan(documents, live, connection.rules))


def render(plan: Plan, output: str, note: str | None = None) -> str:
    from acr_reconcile.plan import render as renderers

    if output == "github":
        from acr_reconcile.plan.render_github import render_github

        return render_github(plan)
    if output == "json":
        return renderers.render_json(plan)
    if output == "markdown":
        return renderers.render_markdown(plan)
    import sys

    from acr_reconcile.console import terminal_width

    width = terminal_width(sys.stdout)
    text = renderers.render_text(plan, color=_colour(), diagnostics=False, width=width)
    return f"{fold(f'note: {note}', width)}\n\n{text}" if note else text


def fold(paragraph: str, width: int | None) -> str:
    """A sentence beside the plan, folded to a terminal's ``width`` (None: one line)."""
    if width is None or len(paragraph) <= width:
        return paragraph
    import textwrap

    return "\n".join(
        textwrap.wrap(paragraph, width, subsequent_indent="  ", break_on_hyphens=False)
    )


def show_diagnostics(plan: Plan, output: str) -> None:
    """Beside a text plan, the findings go to stderr (FILE:LINE first, the spec line
    under it); the machine formats carry them inside."""
    if output != "text" or not plan.diagnostics:
        return
    print_findings(plan.diagnostics)


def print_findings(diagnostics: Sequence[Diagnostic]) -> None:
    """Findings on stderr as a terminal user reads them (plan/render_diagnostics.py):
    ``plan`` beside its text plan and ``apply`` when a plan it made has errors, in one
    shape, so an error reads the same whichever command met it."""
    import sys

    from acr_reconcile.console import terminal_width
    from acr_reconcile.plan.render_diagnostics import file_lines, render_diagnostics

    text = render_diagnostics(diagnostics, source=file_lines(), width=terminal_width(sys.stderr))
    sys.stdout.flush()  # the plan first, when both streams go to one terminal
    sys.stderr.write("\n" + text)
    sys.stderr.flush()


def _colour() -> bool:
    import os
    import sys

    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def show(plan: Plan, output: str, note: str | None) -> None:
    import sys

    sys.stdout.write(render(plan, output, note).rstrip("\n") + "\n")
    sys.stdout.flush()
    show_diagnostics(plan, output)


def check_flags(args: argparse.Namespace) -> None:
    """Flags that mean nothing alone are a usage error, never silently ignored."""
    from acr_reconcile.errors import ConfigError

    if args.fail_on is not None and not args.detailed_exitcode:
        raise ConfigError(
            f"--fail-on {args.fail_on} only chooses what exit code 2 means: "
            "add --detailed-exitcode (without it plan exits 0 whenever it succeeds)"
        )


def _side(output: str) -> TextIO:
    """Messages beside the plan: stdout after text, stderr beside a machine format."""
    import sys

    return sys.stdout if output == "text" else sys.stderr


def _save(args: argparse.Namespace, planned: Planned) -> None:
    import shlex

    from acr_reconcile.plan.planfile import write_plan

    # who planned: the prunes it left out for its own access are reproduced at apply
    meta = {"planned_by": planned.live.caller_object_id}
    write_plan(args.out, planned.plan, planned.documents, meta=meta)
    print(
        f"\nSaved the plan to: {args.out}\n\nTo perform exactly these actions, run:\n"
        f"  acr-reconcile apply {shlex.quote(args.out)}",
        file=_side(args.output),
    )


def run(args: argparse.Namespace) -> int:
    from acr_reconcile.commands.connection import connect
    from acr_reconcile.plan.planfile import refuse_plan_files

    check_flags(args)
    parallelism = check_parallelism(args.parallelism)
    refuse_plan_files(args.spec, "plan")
    documents = load_documents(args.spec, args.shard)
    with connect() as connection:
        planned = plan_documents(documents, connection, parallelism, args.dct_inventory)
    plan = planned.plan
    show(plan, args.output, connection.rules.note)
    if plan.errors:
        if args.out:
            import sys

            print(f"\nThe plan has errors, so it was not saved to {args.out}.", file=sys.stderr)
        return EXIT_ERROR
    if args.out:
        _save(args, planned)
    if args.detailed_exitcode and _fails(plan, args.fail_on or "any"):
        return EXIT_CHANGES
    return EXIT_OK


def _fails(plan: Plan, fail_on: str) -> bool:
    from acr_reconcile.plan.model import Reason

    if fail_on == "drift":
        return any(change.reason is Reason.DRIFT for change in plan.pending)
    return plan.has_changes
