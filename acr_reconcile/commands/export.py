"""`acr-reconcile export`: write the spec of an existing registry, to adopt it as it is."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "export",
        help="write a spec from a live registry (plan on it shows no changes)",
        description="Read a registry, its settings and its Acr* role holders; print a spec.",
    )
    p.add_argument("--subscription", required=True, metavar="ID")
    p.add_argument("--resource-group", required=True, metavar="NAME")
    p.add_argument("--registry", required=True, metavar="NAME")
    p.add_argument("--out", metavar="FILE", help="write the spec here instead of stdout")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from acr_reconcile.commands.connection import connect
    from acr_reconcile.errors import ConfigError
    from acr_reconcile.live.export import export_spec, to_yaml

    with connect() as connection:
        document = export_spec(
            connection.session,
            connection.graph,
            args.subscription,
            args.resource_group,
            args.registry,
        )
    text = to_yaml(document)
    if not args.out:
        sys.stdout.write(text)
        return 0
    try:
        Path(args.out).write_text(text, encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{args.out}: cannot write the spec: {error.strerror}") from None
    print(f"wrote {args.out}", file=sys.stderr)
    return 0
