"""``acr-sandbox up|down|status|env|reset|principal add NAME``: the local Azure.

The same command line answers as ``acr-reconcile sandbox ...``: the tool hands its
arguments here unchanged, so the two spellings cannot drift apart.
"""

from __future__ import annotations

import argparse
import sys
import typing
from collections.abc import Sequence
from pathlib import Path

from acr_sandbox.errors import SandboxError

EXIT_OK, EXIT_ERROR = 0, 1


class _Parser(argparse.ArgumentParser):
    """A wrong command line exits 1 like every other error (argparse's 2 would read as
    "changes pending" in a pipeline that also runs the tool)."""

    def error(self, message: str) -> typing.NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")


def build_parser(prog: str = "acr-sandbox") -> argparse.ArgumentParser:
    p = _Parser(
        prog=prog,
        description="Run the local Azure sandbox: ARM, Entra ID, Microsoft Graph and the "
        "registry data plane on 127.0.0.1 over HTTPS. 'env' prints the exports that point "
        "plan/apply at it.",
    )
    p.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="sandbox state directory (default: $ACR_RECONCILE_SANDBOX_DIR or ./.sandbox)",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    up = actions.add_parser("up", help="start the sandbox in the background")
    up.add_argument(
        "--dct",
        choices=("current", "legacy"),
        default=None,
        help="content trust rules: 'current' (today's Azure: new enablement retired) or "
        "'legacy' (before the 2026-05-31 cut-off)",
    )
    up.add_argument("--port", type=int, default=None, help="HTTPS port (default: kept/free)")
    actions.add_parser("down", help="stop the sandbox (only its own processes)")
    actions.add_parser("status", help="show every part and its health (exit 1 if unhealthy)")
    actions.add_parser("env", help="print the export lines that point the tool at the sandbox")
    actions.add_parser("reset", help="clear the sandbox state (restarts it if it runs)")
    principal = actions.add_parser("principal", help="manage sandbox principals")
    principal_actions = principal.add_subparsers(dest="principal_action", required=True)
    add = principal_actions.add_parser(
        "add", help="create a principal (a service principal gets an appId and a secret)"
    )
    add.add_argument("name", help="display name")
    add.add_argument(
        "--type",
        dest="principal_type",
        choices=("ServicePrincipal", "User", "Group"),
        default="ServicePrincipal",
        help="directory object type (default ServicePrincipal)",
    )
    for action in (up, *(actions.choices[n] for n in ("down", "status", "env", "reset")), add):
        # also accepted after the action: `sandbox up --state-dir DIR`
        action.add_argument(
            "--state-dir", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS
        )
    return p


def main(argv: Sequence[str] | None = None, prog: str = "acr-sandbox") -> int:
    args = build_parser(prog).parse_args(argv)
    try:
        return run(args)
    except SandboxError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def run(args: argparse.Namespace) -> int:
    from acr_sandbox import commands
    from acr_sandbox.process import default_state_dir
    from acr_sandbox.statedir import secure_state_dir

    state_dir = (args.state_dir or default_state_dir()).resolve()
    if state_dir.exists():  # every action believes what the state dir holds
        repaired = secure_state_dir(state_dir)
        if repaired:
            print(f"note: {repaired}", file=sys.stderr)
    handlers = {
        "up": lambda: commands.up(state_dir, args.port, args.dct),
        "down": lambda: commands.down(state_dir),
        "status": lambda: commands.status(state_dir),
        "env": lambda: commands.env(state_dir),
        "reset": lambda: commands.reset(state_dir),
        "principal": lambda: commands.principal_add(state_dir, args.name, args.principal_type),
    }
    result: int = handlers[args.action]()
    return result
