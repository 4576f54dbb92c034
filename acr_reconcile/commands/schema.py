"""`acr-reconcile schema` (not available yet)."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("schema", help="(not available yet)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from acr_reconcile.errors import ConfigError

    raise ConfigError("'schema' is not available yet")
