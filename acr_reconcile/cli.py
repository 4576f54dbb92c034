"""Command line: parses arguments, dispatches to ``acr_reconcile.commands``, maps errors
to exit codes (0 success/in sync, 1 error, 2 changes pending with --detailed-exitcode).

Only argparse is imported at start-up so ``--help`` stays fast; each command module
imports what it needs (Azure SDK, rich, pydantic) inside its ``run`` function.
"""

from __future__ import annotations

import argparse
import sys
import typing
from collections.abc import Sequence
from types import ModuleType

from acr_reconcile import __version__

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a reader that went away

_COMMANDS = (
    "validate",
    "plan",
    "show",
    "apply",
    "verify",
    "export",
    "schema",
    "trust-policy",
    "sandbox",
)


def _command_module(name: str) -> ModuleType:
    import importlib

    return importlib.import_module(f"acr_reconcile.commands.{name.replace('-', '_')}")


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on a usage error, which a pipeline would read as "changes
    pending"; a wrong command line is an error like any other: exit 1."""

    def error(self, message: str) -> typing.NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="acr-reconcile",
        description=(
            "Keep Azure Container Registry content trust right: resource group, Premium "
            "registry, trust policy, signer roles and signed tags, declared in YAML."
        ),
        epilog=(
            "Exit codes: 0 success or in sync, 1 error, 2 changes pending (--detailed-exitcode)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"acr-reconcile {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMANDS:
        _command_module(name).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        return _reader_went_away()


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_ERROR
    from acr_reconcile.errors import AcrReconcileError

    try:
        code: int = args.run(args)
        return code
    except AcrReconcileError as error:
        from acr_reconcile.console import print_error
        from acr_reconcile.redact import redact

        print_error(_fit_terminal(redact(str(error))))
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _fit_terminal(message: str, prefix: str = "error: ") -> str:
    """An error as a terminal shows it: each line folded to its width under its start
    (plan/render_wrap.py), the ``error: `` prefix counted; a pipe or file keeps every
    line whole (one grep finds a ``FILE:LINE:COL`` line)."""
    from acr_reconcile.console import terminal_width

    width = terminal_width(sys.stderr)
    if width is None:
        return message
    from rich.text import Text

    from acr_reconcile.plan.render_wrap import fit

    folded: list[str] = []
    for n, line in enumerate(message.split("\n")):
        lead = prefix if n == 0 else ""
        pieces = [p.plain for p in fit(Text(lead + line), width, hang=4)]
        folded += [pieces[0][len(lead) :], *pieces[1:]]
    return "\n".join(folded)


def _reader_went_away() -> int:
    """``acr-reconcile plan ... | head``: the reader closed the pipe. That is no error of
    ours and no traceback; stdout goes to /dev/null so the interpreter's final flush of
    what is still buffered cannot raise a second time at exit."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (embedded, captured)
        pass
    return EXIT_BROKEN_PIPE
