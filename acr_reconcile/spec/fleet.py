"""Rules across the documents of one run: one registry, one owner.

Registry names are global (they become ``NAME.azurecr.io``), so a second document naming
the same registry, in any subscription, would make two specs fight over one resource.
A resource group may host several registries, but every document that names it must
agree on its location (immutable in Azure) and, where both write them, its tags, or each
apply would undo the other.
"""

from __future__ import annotations

from collections.abc import Sequence

from acr_reconcile.errors import SpecIssue
from acr_reconcile.spec.document import SpecDocument


def _issue(document: SpecDocument, path: str, message: str) -> SpecIssue:
    where = document.location(path)
    return SpecIssue(where.file, where.line, where.column, path, message)


def _registry_issues(documents: Sequence[SpecDocument]) -> list[SpecIssue]:
    issues: list[SpecIssue] = []
    owners: dict[str, SpecDocument] = {}
    for document in documents:
        name = document.spec.registry.name.lower()
        first = owners.setdefault(name, document)
        if first is not document:
            message = (
                f"registry {document.spec.registry.name!r} is already declared at "
                f"{first.location('registry.name')}; registry names are global, so declare "
                "each registry in one document only"
            )
            issues.append(_issue(document, "registry.name", message))
    return issues


def _group_issues(documents: Sequence[SpecDocument]) -> list[SpecIssue]:
    issues: list[SpecIssue] = []
    groups: dict[tuple[str, str], SpecDocument] = {}
    for document in documents:
        group = document.spec.resource_group
        first = groups.setdefault((document.spec.subscription_id, group.name.lower()), document)
        if first is document:
            continue
        other = first.spec.resource_group
        # Omitted tags are not managed, so they cannot disagree with anyone's.
        both_tag = {"tags"} <= group.model_fields_set & other.model_fields_set
        for path, mine, theirs in (
            ("resourceGroup.location", group.location, other.location),
            ("resourceGroup.tags", group.tags if both_tag else {}, other.tags if both_tag else {}),
        ):
            if mine != theirs:
                message = (
                    f"resource group {group.name!r} is declared with a different "
                    f"{path.rpartition('.')[2]} at {first.location(path)}; every document "
                    "naming it must agree"
                )
                issues.append(_issue(document, path, message))
    return issues


def fleet_issues(documents: Sequence[SpecDocument]) -> list[SpecIssue]:
    """Conflicts between documents, each pointing at the later one and naming the first."""
    return _registry_issues(documents) + _group_issues(documents)
