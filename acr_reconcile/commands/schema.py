"""`acr-reconcile schema`: the JSON Schema of spec v1, for editors and CI linters."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "schema",
        help="print the JSON Schema of the spec format",
        description="Print the JSON Schema of spec format v1 (the content of "
        "specs/acr-reconcile.schema.json).",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from acr_reconcile.spec.schema import schema_text

    sys.stdout.write(schema_text())
    return 0
