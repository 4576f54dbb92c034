"""`acr-reconcile export`: write the spec of an existing registry, to adopt it as it is."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "export",
        help="write a spec from a live registry (plan on it shows no changes)",
        description="Read a registry, its settings and its Acr* role holders; print a spec.",
    )
    p.add_argument(
        "--subscription",
        metavar="ID",
        help="subscription GUID (default: $AZURE_SUBSCRIPTION_ID)",
    )
    p.add_argument("--resource-group", required=True, metavar="NAME")
    p.add_argument("--registry", required=True, metavar="NAME")
    p.add_argument("--out", metavar="FILE", help="write the spec here instead of stdout")
    p.add_argument(
        "--no-images",
        action="store_true",
        help="leave out images (no registry data plane or trust reads)",
    )
    p.set_defaults(run=run)


def subscription_of(given: str | None, env: Mapping[str, str]) -> str:
    """--subscription, else AZURE_SUBSCRIPTION_ID (what the pipelines export anyway); a
    GUID either way, so a typo is caught here, not as an ARM 404 or in the spec."""
    import re

    from acr_reconcile.errors import ConfigError

    value = given if given is not None else env.get("AZURE_SUBSCRIPTION_ID")
    where = "--subscription" if given is not None else "AZURE_SUBSCRIPTION_ID"
    if not value:
        raise ConfigError(
            "export needs a subscription: pass --subscription or set AZURE_SUBSCRIPTION_ID"
        )
    if not re.fullmatch(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}", value.strip()):
        raise ConfigError(f"{where} {value!r} is not a subscription id (a GUID)")
    return value.strip().lower()


def run(args: argparse.Namespace) -> int:
    import os
    import sys
    from pathlib import Path

    from acr_reconcile.commands.connection import connect
    from acr_reconcile.errors import ConfigError
    from acr_reconcile.live.export import export_spec, read_all_tags, to_yaml

    subscription = subscription_of(args.subscription, os.environ)
    with connect() as connection:
        document = export_spec(
            connection.session,
            connection.graph,
            subscription,
            args.resource_group,
            args.registry,
            tags=None if args.no_images else read_all_tags(connection.data_plane()),
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
