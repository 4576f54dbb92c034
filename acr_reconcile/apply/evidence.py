"""The DCT inventory written as evidence before a migration disables content trust.

Disabling trust deletes every DCT signature for good; the inventory file is then the one
record of what DCT vouched for (and what a rerun reads once DCT is gone). So it is written
before the first change of the run, for every registry whose plan disables trust in a
migration, and the run stops if it cannot be written.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TextIO

from acr_reconcile.apply.migration import MigrationLedger
from acr_reconcile.errors import ConfigError
from acr_reconcile.live.dct import dct_inventory
from acr_reconcile.live.dct_file import default_path, write_inventory
from acr_reconcile.live.state import LiveState
from acr_reconcile.plan import names
from acr_reconcile.plan.model import Kind, Plan


def write_dct_evidence(
    plan: Plan,
    live: LiveState,
    destination: str | None,
    today: date,
    stream: TextIO,
    ledger: MigrationLedger | None = None,
) -> Sequence[Path]:
    """Write the inventory of each migrating registry whose trust this plan disables;
    ``destination`` (``--dct-inventory FILE``) names the file when there is one registry,
    else ``dct-inventory-<registry>-<UTC date>.json`` in the working directory. Each one
    written is recorded in ``ledger``: the trust disable needs it."""
    disabling = {
        c.address for c in plan.pending if c.kind is Kind.TRUST_POLICY and c.destroys_trust
    }
    readings = [
        (sub, data.dct)
        for (sub, name), data in sorted(live.registries.items())
        if data is not None
        and data.dct is not None
        and names.trust_policy_address(sub, name) in disabling
    ]
    if destination and len(readings) > 1:
        raise ConfigError(
            f"--dct-inventory {destination}: this run migrates {len(readings)} registries; "
            "leave the option out to write one dct-inventory-<registry>-<date>.json each"
        )
    written: list[Path] = []
    for sub, reading in readings:
        path = Path(destination) if destination else default_path(reading.registry, today)
        inventory = dct_inventory(reading)
        write_inventory(path, inventory)
        if ledger is not None:
            ledger.wrote(sub, reading.registry, path, inventory)
        print(f"wrote the DCT inventory of {reading.registry} to {path}", file=stream)
        written.append(path)
    return written
