"""`acr-reconcile trust-policy SPEC... --out DIR`: the Notation trust policy of a fleet.

Writes ``DIR/trustpolicy.oci.json`` and ``DIR/truststore/x509/ca/<registry>/*.pem`` so that
``notation verify`` (with ``NOTATION_CONFIG=DIR`` or the files copied into its config
directory) enforces the rules the specs state. Offline: a development key's certificate
is read from its file; a Key Vault certificate cannot be read without the network, so it
is given with ``--certificate VAULT/CERTIFICATE=FILE`` (a PEM chain, leaf first, e.g. from
``az keyvault certificate download --vault-name VAULT -n CERTIFICATE -f FILE``).
"""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "trust-policy",
        help="write the Notation trust policy and trust store of spec files",
        description="Write trustpolicy.oci.json and truststore/x509/ca/<registry>/ for the "
        "documents with a notation block. Offline; Key Vault certificates come from "
        "--certificate.",
    )
    p.add_argument("specs", nargs="+", metavar="SPEC", help="spec file or directory")
    p.add_argument("--out", required=True, metavar="DIR", help="directory to write into")
    p.add_argument(
        "--certificate",
        action="append",
        default=[],
        metavar="VAULT/CERTIFICATE=FILE",
        help="PEM chain (leaf first) of a Key Vault certificate named by a spec; repeatable",
    )
    p.add_argument(
        "--registry-suffix",
        default="azurecr.io",
        metavar="SUFFIX",
        help="login server suffix of the registries (azurecr.io; azurecr.us, azurecr.cn)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from acr_reconcile.commands.trust_policy_build import build_policies, certificate_options
    from acr_reconcile.console import stdout
    from acr_reconcile.errors import ConfigError
    from acr_reconcile.notation.policy import policy_files
    from acr_reconcile.spec.loader import load_paths

    documents = load_paths(args.specs)
    given = certificate_options(args.certificate)
    policies = build_policies(documents, given, args.registry_suffix)
    out = Path(args.out)
    files = policy_files(policies)
    try:
        _drop_stale_anchors(out, files)
        for relative, content in files.items():
            target = out / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_symlink():
                raise ConfigError(f"{target}: is a symbolic link; notation refuses those")
            target.write_bytes(content)
    except OSError as error:
        raise ConfigError(f"{args.out}: cannot write the trust policy: {error}") from None
    anchors = sum(len(p.anchors) for p in policies)
    stdout().print(
        f"wrote {out / 'trustpolicy.oci.json'}: {len(policies)} policy(ies), "
        f"{anchors} trust anchor(s)"
    )
    return 0


def _drop_stale_anchors(out: Any, files: dict[str, bytes]) -> None:
    """A certificate left in a store directory from an earlier run would stay trusted by
    notation: every store this run writes holds exactly this run's anchors."""
    from acr_reconcile.errors import ConfigError

    stores = {out / relative.rpartition("/")[0] for relative in files if "/" in relative}
    wanted = {out / relative for relative in files}
    for store in stores:
        if store.is_symlink():
            raise ConfigError(f"{store}: is a symbolic link; notation refuses those")
        if not store.is_dir():
            continue
        for entry in store.iterdir():
            if entry not in wanted and (entry.is_file() or entry.is_symlink()):
                entry.unlink()
