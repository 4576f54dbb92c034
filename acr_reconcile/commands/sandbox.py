"""``acr-reconcile sandbox ...``: hands its arguments to the local Azure emulator.

The emulator is a separate distribution (``sandbox/`` in the repository) that meets the
tool only over the wire; this is the one place the tool imports it, so a plain install
of the tool carries no web server. Without the emulator, the command says how to get it.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

INSTALL_HINT = (
    "the sandbox (local Azure) is not installed: from a checkout, run "
    "'pip install ./sandbox' (or 'make demo', which installs it)"
)


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "sandbox",
        help="run the local Azure (ARM, Entra ID, Graph, registries) for trying specs",
        add_help=False,
        prefix_chars="\0",  # every argument, --help included, belongs to the emulator
    )
    p.add_argument("arguments", nargs=argparse.REMAINDER)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        from acr_sandbox import cli
    except ImportError as error:
        missing = getattr(error, "name", None) or ""
        if not missing.startswith("acr_sandbox") and missing not in ("aiohttp", "jwt"):
            raise
        print(f"error: {INSTALL_HINT}", file=sys.stderr)
        return 1
    code: int = cli.main(args.arguments, prog="acr-reconcile sandbox")
    return code
