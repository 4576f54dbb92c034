"""`acr-reconcile show PLANFILE`: render a saved plan, as `terraform show` does.

Offline: it reads the file only (no Azure sign-in), so a reviewer can read the plan a
pipeline saved as an artifact. What apply would check (staleness, signing material) is
checked by apply, against live state, not here.
"""

from __future__ import annotations

import argparse
from typing import Any

OUTPUTS = ("text", "json", "markdown")


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "show",
        help="render a saved plan (made by `plan --out FILE`) without contacting Azure",
        description="Render a saved plan file as text, JSON or markdown.",
    )
    p.add_argument("planfile", metavar="PLANFILE", help="a plan saved with `plan --out`")
    p.add_argument("--output", choices=OUTPUTS, default="text", help="format (default text)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import shlex
    import sys

    from acr_reconcile.commands.plan import fold, render, show_diagnostics
    from acr_reconcile.console import terminal_width
    from acr_reconcile.errors import ConfigError
    from acr_reconcile.plan.planfile import is_plan_file, read_plan

    if not is_plan_file(args.planfile):
        from pathlib import Path

        if not Path(args.planfile).is_file():
            raise ConfigError(f"{args.planfile}: no such plan file")
        raise ConfigError(
            f"{args.planfile}: not a saved plan; make one with "
            f"`acr-reconcile plan SPEC --out {shlex.quote(args.planfile)}`"
        )
    saved = read_plan(args.planfile)
    text = render(saved.plan, args.output).rstrip("\n") + "\n"
    if args.output == "text":
        header = (
            f"Saved plan {args.planfile}, made {saved.created_at} by acr-reconcile "
            f"{saved.tool_version} from {len(saved.documents)} spec document(s)."
        )
        text = fold(header, terminal_width(sys.stdout)) + "\n\n" + text
    sys.stdout.write(text)
    sys.stdout.flush()
    show_diagnostics(saved.plan, args.output)
    return 0
