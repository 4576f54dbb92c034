"""Changes a person reads as part of another: the trust policy of a registry being created.

Azure sets a registry's trust policy with a separate update after the create, so the plan
keeps it as its own change (apply runs it, ``--output json`` lists it). To a reader it is
one resource, as in Terraform's ``azurerm_container_registry``: the text, markdown and
GitHub views show it as the registry's ``contentTrust`` attribute, not as a
``~ content trust … [missing]`` line, and every count ("Plan: N to add", the fleet
table, "N added", the JSON ``summary`` and ``targets[].changes``) counts the registry
once, so a pipeline that reads the JSON summary reports what the reviewer read. The JSON
``changes`` array still lists the trust policy as its own entry (apply runs it), and
``summary.folded`` says how many such entries the counts leave out.
"""

from __future__ import annotations

from collections.abc import Iterable

from acr_reconcile.plan.model import Action, Change, Kind, Plan


def folded(changes: Iterable[Change]) -> dict[str, Change]:
    """Trust-policy changes whose registry the same plan creates, by registry address."""
    listed = list(changes)
    created = {c.address for c in listed if c.kind is Kind.REGISTRY and c.action is Action.CREATE}
    found: dict[str, Change] = {}
    for change in listed:
        if change.kind is Kind.TRUST_POLICY and change.is_change:
            for registry in change.depends_on:
                if registry in created:
                    found[registry] = change
    return found


def folded_addresses(changes: Iterable[Change]) -> set[str]:
    return {c.address for c in folded(changes).values()}


def shown_counts(plan: Plan, target: str | None = None) -> dict[str, int]:
    """Add / change / destroy as a person reads the plan (of one target, if given)."""
    return counted(plan.pending, folded_addresses(plan.changes), target)


def counted(pending: Iterable[Change], skip: set[str], target: str | None = None) -> dict[str, int]:
    """Add / change / destroy of ``pending`` without the ``skip`` addresses."""
    actions = [
        c.action
        for c in pending
        if c.address not in skip and (target is None or c.target == target)
    ]
    return {
        "add": actions.count(Action.CREATE),
        "change": actions.count(Action.UPDATE),
        "destroy": actions.count(Action.DELETE),
    }
