"""`acr-reconcile verify SPEC...`: check every signature the documents vouch for, now.

Read-only, with the rights a plan needs: each tag's Notary Project signatures are read
and verified under its document's trust policy (the one `trust-policy` writes for
notation), and in a migration from Docker Content Trust every digest it carries is too,
listed in the document or not. Exit 0 when every tag the documents sign and every
carried digest has a trusted signature, 1 otherwise (each failure is named).
"""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "verify",
        help="verify the Notary Project signatures the specs ask for (read-only)",
        description="Read and verify each declared tag's signatures and a DCT migration's "
        "carried digests; exit 1 naming each one without a trusted signature.",
    )
    p.add_argument("spec", nargs="+", metavar="SPEC", help="spec files or directories")
    p.add_argument(
        "--dct-inventory",
        metavar="FILE",
        help="the DCT inventory of a migration whose trust is disabled (default: the newest "
        "dct-inventory-<registry>-<date>.json here)",
    )
    p.set_defaults(run=run, parallelism=10)


def run(args: argparse.Namespace) -> int:
    from acr_reconcile.commands import plan as plan_command
    from acr_reconcile.commands.connection import connect
    from acr_reconcile.plan.planfile import refuse_plan_files
    from acr_reconcile.plan.signature_report import signature_report

    refuse_plan_files(args.spec, "verify")
    documents = plan_command.load_documents(args.spec, None)
    with connect() as connection:
        planned = plan_command.plan_documents(
            documents, connection, args.parallelism, args.dct_inventory
        )
    report = signature_report(documents, planned.live)
    print("\n".join(report.lines))
    if report.failures:
        print(f"\nVerification failed: {report.failures} problem(s), {report.checked} checked.")
        return plan_command.EXIT_ERROR
    checked = report.checked
    print(f"\nVerified: {checked} tag(s) and digest(s), each signed or unsigned as declared.")
    return plan_command.EXIT_OK
