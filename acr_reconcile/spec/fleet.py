"""Rules across the documents of one run: one registry, one owner.

Registry names are global (they become ``NAME.azurecr.io``), so a second document naming
the same registry, in any subscription, would make two specs fight over one resource.
A resource group may host several registries, but every document that names it must
agree on its location (immutable in Azure) and, where both write them, its tags, or each
apply would undo the other. Key Vault names are global too (``NAME.vault.azure.net``):
documents may share a signing vault and certificate, so one key signs for many
registries, but they must agree on where the vault is and what the certificate is.
"""

from __future__ import annotations

from collections.abc import Sequence

from acr_reconcile.errors import SpecIssue
from acr_reconcile.spec.document import SpecDocument
from acr_reconcile.spec.notation import KeyVaultKeySpec

VAULT = "notation.signingKey.keyVault"


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


def signing_vault(document: SpecDocument) -> KeyVaultKeySpec | None:
    notation = document.spec.notation
    key = notation.signing_key if notation is not None else None
    return key.key_vault if key is not None else None


def vault_place(document: SpecDocument, vault: KeyVaultKeySpec) -> tuple[str, str]:
    """(subscription, resource group) of the vault, lower case: where it is created."""
    group = vault.resource_group or document.spec.resource_group.name
    return (document.spec.subscription_id, group.lower())


def _disagree(document: SpecDocument, first: SpecDocument, path: str, what: str) -> SpecIssue:
    message = (
        f"{what} is declared differently at {first.location(path)}; every document "
        "naming it must agree"
    )
    return _issue(document, path, message)


def _vault_issues(documents: Sequence[SpecDocument]) -> list[SpecIssue]:
    issues: list[SpecIssue] = []
    vaults: dict[str, SpecDocument] = {}
    certificates: dict[tuple[str, str], SpecDocument] = {}
    for document in documents:
        vault = signing_vault(document)
        if vault is None:
            continue
        first = vaults.setdefault(vault.name.lower(), document)
        theirs = signing_vault(first)
        moved = theirs is not None and vault_place(document, vault) != vault_place(first, theirs)
        if first is not document and moved:
            path = f"{VAULT}.resourceGroup"
            where = f"key vault {vault.name!r} (its subscription and resource group)"
            issues.append(_disagree(document, first, path, where))
        key = (vault.name.lower(), vault.certificate.lower())
        first = certificates.setdefault(key, document)
        theirs = signing_vault(first)
        if first is document or theirs is None:
            continue
        label = f"certificate {vault.certificate!r} of key vault {vault.name!r}"
        for field in ("subject", "validity_months"):
            if getattr(vault, field) != getattr(theirs, field):
                alias = KeyVaultKeySpec.model_fields[field].alias or field
                issues.append(_disagree(document, first, f"{VAULT}.{alias}", f"{label} ({alias})"))
    return issues


def fleet_issues(documents: Sequence[SpecDocument]) -> list[SpecIssue]:
    """Conflicts between documents, each pointing at the later one and naming the first."""
    return _registry_issues(documents) + _group_issues(documents) + _vault_issues(documents)
