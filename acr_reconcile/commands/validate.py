"""`acr-reconcile validate SPEC...`: spec checks only, no network, no Azure SDK.

Meant as the first gate in a pull request: it either confirms every document or raises
one SpecError listing every problem as ``FILE:LINE:COL: field.path: message``. With
``--output github`` the problems are also printed as workflow commands, which GitHub shows
on the spec lines of the pull request.
"""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "validate",
        help="check spec files offline (every problem with FILE:LINE:COL)",
        description="Check spec files and directories (*.yaml, *.yml, recursively) "
        "without touching Azure. Exit 0 when all are valid, 1 otherwise.",
    )
    p.add_argument("specs", nargs="+", metavar="SPEC", help="spec file or directory")
    p.add_argument(
        "--output",
        choices=("text", "github"),
        default="text",
        help="github: also print each problem as a GitHub Actions ::error annotation",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from acr_reconcile.console import stdout
    from acr_reconcile.errors import SpecError
    from acr_reconcile.spec.loader import load_paths, skipped_note

    skipped: list[str] = []
    try:
        documents = load_paths(args.specs, skipped=skipped)
    except SpecError as error:
        _note(skipped_note(skipped))
        if args.output == "github":
            from acr_reconcile.spec.annotations import github_annotations

            print("\n".join(github_annotations(error.issues)), flush=True)
        raise
    _note(skipped_note(skipped))
    files = len({d.file for d in documents})
    stdout().print(f"{len(documents)} document(s) in {files} file(s) valid")
    return 0


def _note(note: str | None) -> None:
    if note:
        import sys

        print(note, file=sys.stderr)
