"""`acr-reconcile validate` (not available yet)."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("validate", help="(not available yet)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from acr_reconcile.errors import ConfigError

    raise ConfigError("'validate' is not available yet")
