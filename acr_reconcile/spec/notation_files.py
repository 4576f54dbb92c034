"""Checks of the files a ``notation`` block names, made by ``validate`` and every command
that reads spec files (not for text given directly).

A development key's certificate chain and the extra trust anchors are public material,
read (bounded) and checked here so a wrong file fails in the pull request, not at the
first signature: the chain must obey the Notary Project certificate rules and, when it
gives the default trusted identity, carry C, ST and O. The private key is only looked
for, never read: opening it may need a passphrase, which only signing asks for.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from acr_reconcile.errors import SpecIssue
from acr_reconcile.notation.certs import ChainError, check_chain
from acr_reconcile.notation.identity import DnError, certificate_subject, require_trust_attributes
from acr_reconcile.notation.signer import SignerError, load_certificate_chain
from acr_reconcile.spec.document import SpecDocument

FILE_KEY = "notation.signingKey.file"


def _issue(document: SpecDocument, path: str, message: str) -> SpecIssue:
    where = document.location(path)
    return SpecIssue(where.file, where.line, where.column, path, message)


def _path(document: SpecDocument, relative: str) -> Path:
    return Path(document.file).parent / relative


def _document_issues(document: SpecDocument) -> list[SpecIssue]:
    notation = document.spec.notation
    if notation is None:
        return []
    issues: list[SpecIssue] = []
    key = notation.signing_key.file if notation.signing_key else None
    if key is not None:
        key_path = _path(document, key.key)
        if not key_path.is_file():
            issues.append(_issue(document, f"{FILE_KEY}.key", f"no key file at {key_path}"))
        chain_path = _path(document, key.certificate)
        where = f"{FILE_KEY}.certificate"
        try:
            chain = load_certificate_chain(chain_path)
            if not chain:
                raise SignerError(f"{chain_path}: holds no certificate")
            check_chain(chain)
            if notation.trusted_identities is None:
                require_trust_attributes(certificate_subject(chain[0]))
        except SignerError as error:
            issues.append(_issue(document, where, str(error)))
        except ChainError as error:
            message = f"{chain_path}: not a Notary Project signing chain: {error}"
            issues.append(_issue(document, where, message))
        except DnError as error:
            message = (
                f"{chain_path}: the certificate's subject is the default trusted identity, "
                f"but {error}; list notation.trustedIdentities"
            )
            issues.append(_issue(document, where, message))
    for index, name in enumerate(notation.trust_store):
        where = f"notation.trustStore.{index}"
        anchor = _path(document, name)
        try:
            if not load_certificate_chain(anchor):
                issues.append(_issue(document, where, f"{anchor}: holds no certificate"))
        except SignerError as error:
            issues.append(_issue(document, where, str(error)))
    return issues


def notation_file_issues(documents: Sequence[SpecDocument]) -> list[SpecIssue]:
    return [issue for document in documents for issue in _document_issues(document)]
