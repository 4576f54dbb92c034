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
    p.add_argument(
        "--to",
        choices=["notation"],
        help="write the migration spec of a Docker Content Trust registry to Notation "
        "(needs --signing-vault, --signing-certificate and --signing-subject)",
    )
    p.add_argument("--signing-vault", metavar="NAME", help="Key Vault holding the signing key")
    p.add_argument(
        "--signing-certificate", metavar="NAME", help="the signing certificate in that vault"
    )
    p.add_argument(
        "--signing-subject",
        metavar="DN",
        help='the certificate\'s subject, e.g. "CN=release, O=Contoso, ST=WA, C=US"',
    )
    p.set_defaults(run=run)


def signing_key_of(args: argparse.Namespace) -> dict[str, str] | None:
    """The notation block's Key Vault key from the options; all three or none, and only
    with --to notation, so a migration spec never carries a placeholder to forget."""
    from acr_reconcile.errors import ConfigError

    given = {
        "--signing-vault": args.signing_vault,
        "--signing-certificate": args.signing_certificate,
        "--signing-subject": args.signing_subject,
    }
    if args.to is None:
        if any(v is not None for v in given.values()):
            named = next(k for k, v in given.items() if v is not None)
            raise ConfigError(f"{named} needs --to notation")
        return None
    missing = [k for k, v in given.items() if not v]
    if missing:
        raise ConfigError(f"export --to notation needs {', '.join(missing)}")
    return {
        "name": args.signing_vault,
        "certificate": args.signing_certificate,
        "subject": args.signing_subject,
    }


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
    from acr_reconcile.files import write_atomic
    from acr_reconcile.live.dct import DctReading, dct_inventory
    from acr_reconcile.live.dct_read import read_dct
    from acr_reconcile.live.export import export_spec, read_all_tags, to_yaml
    from acr_reconcile.live.state import LiveRegistry

    subscription = subscription_of(args.subscription, os.environ)
    signing_key = signing_key_of(args)
    readings: list[DctReading] = []
    with connect() as connection:
        data_plane = connection.data_plane()

        def read(registry: LiveRegistry) -> DctReading:
            readings.append(read_dct(data_plane, registry))
            return readings[-1]

        document = export_spec(
            connection.session,
            connection.graph,
            subscription,
            args.resource_group,
            args.registry,
            tags=None if args.no_images or signing_key else read_all_tags(data_plane),
            migrate_to=(read, signing_key) if signing_key else None,
        )
    for reading in readings:
        for problem in dct_inventory(reading).problems:
            print(f"warning: {problem.message}", file=sys.stderr)
    text = to_yaml(document)
    if signing_key:
        from acr_reconcile.spec.loader import load_text

        # the options go into the spec as given: a subject notation would refuse is said
        # now, at the option, not later by validate
        load_text(text, args.out or "<export --to notation>")
    if not args.out:
        sys.stdout.write(text)
        return 0
    write_atomic(Path(args.out), text.encode("utf-8"), "the exported spec", mode=0o644)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0
