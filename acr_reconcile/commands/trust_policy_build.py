"""From validated spec documents (and certificate files) to trust policy entries.

Every problem is a ConfigError naming the spec field (``FILE:LINE:COL: field``) or the
command-line option it comes from; nothing is written until all documents are read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from cryptography import x509

from acr_reconcile.errors import ConfigError
from acr_reconcile.notation.certs import ChainError, check_chain
from acr_reconcile.notation.identity import (
    DnError,
    certificate_subject,
    format_dn,
    identity_for,
    parse_dn,
    require_trust_attributes,
)
from acr_reconcile.notation.policy import Anchor, DocumentPolicy
from acr_reconcile.notation.signer import SignerError, load_certificate_chain
from acr_reconcile.spec.document import SpecDocument

KEY = "notation.signingKey"


def certificate_options(values: Sequence[str]) -> dict[tuple[str, str], Path]:
    """``VAULT/CERTIFICATE=FILE`` options as {(vault, certificate) lower case: path}."""
    given: dict[tuple[str, str], Path] = {}
    for value in values:
        name, equals, file = value.partition("=")
        vault, slash, certificate = name.partition("/")
        if not equals or not slash or not vault or not certificate or not file:
            raise ConfigError(
                f"--certificate {value!r}: write VAULT/CERTIFICATE=FILE, e.g. "
                "contoso-signing/release=release.pem"
            )
        given[(vault.lower(), certificate.lower())] = Path(file)
    return given


def _relative(document: SpecDocument, path: str) -> Path:
    return Path(document.file).parent / path


def _chain(document: SpecDocument, given: Mapping[tuple[str, str], Path]) -> list[x509.Certificate]:
    key = document.spec.notation.signing_key if document.spec.notation else None
    assert key is not None
    if key.file is not None:
        where = document.where(f"{KEY}.file.certificate")
        path = _relative(document, key.file.certificate)
    else:
        vault = key.key_vault
        assert vault is not None
        where = document.where(f"{KEY}.keyVault.certificate")
        found = given.get((vault.name.lower(), vault.certificate.lower()))
        if found is None:
            raise ConfigError(
                f"{where}: the certificate of Key Vault {vault.name}/{vault.certificate} "
                "cannot be read offline; download it (az keyvault certificate download "
                f"--vault-name {vault.name} -n {vault.certificate} -f {vault.certificate}.pem) "
                f"and pass --certificate {vault.name}/{vault.certificate}={vault.certificate}.pem"
            )
        path = found
    try:
        chain = load_certificate_chain(path)
    except SignerError as error:
        raise ConfigError(f"{where}: {error}") from None
    if not chain:
        raise ConfigError(f"{where}: {path} holds no certificate")
    try:
        check_chain(chain)
    except ChainError as error:
        raise ConfigError(f"{where}: {path}: not a Notary Project signing chain: {error}") from None
    if key.key_vault is not None:
        wanted = set(parse_dn(key.key_vault.subject))
        if set(certificate_subject(chain[0])) != wanted:
            raise ConfigError(
                f"{where}: {path} is a certificate for {format_dn(certificate_subject(chain[0]))}"
                f", not the spec's subject {key.key_vault.subject}"
            )
    return chain


def _anchors(document: SpecDocument, chain: list[x509.Certificate] | None) -> list[Anchor]:
    notation = document.spec.notation
    assert notation is not None
    anchors: list[Anchor] = []
    if chain is not None:
        anchors.append(Anchor("signing-root.pem", chain[-1]))
    for index, name in enumerate(notation.trust_store):
        path = _relative(document, name)
        where = document.where(f"notation.trustStore.{index}")
        try:
            certificates = load_certificate_chain(path)
        except SignerError as error:
            raise ConfigError(f"{where}: {error}") from None
        if not certificates:
            raise ConfigError(f"{where}: {path} holds no certificate")
        stem = Path(name).stem
        anchors += [
            Anchor(f"anchor-{index}-{n}-{stem}.pem", cert) for n, cert in enumerate(certificates)
        ]
    return anchors


def _identities(document: SpecDocument, chain: list[x509.Certificate] | None) -> tuple[str, ...]:
    notation = document.spec.notation
    assert notation is not None
    if notation.trusted_identities is not None:
        return tuple(notation.trusted_identities)
    assert chain is not None  # the spec requires identities when there is no signing key
    subject = certificate_subject(chain[0])
    try:
        require_trust_attributes(subject)
    except DnError as error:
        where = document.where(KEY)
        raise ConfigError(
            f"{where}: the signing certificate's subject is the default trusted identity, "
            f"but {error}; list notation.trustedIdentities"
        ) from None
    return (identity_for(subject),)


def build_policies(
    documents: Sequence[SpecDocument],
    given: Mapping[tuple[str, str], Path],
    suffix: str,
) -> list[DocumentPolicy]:
    policies: list[DocumentPolicy] = []
    for document in documents:
        notation = document.spec.notation
        if notation is None:
            continue
        chain = _chain(document, given) if notation.signing_key is not None else None
        registry = document.spec.registry.name.lower()
        repositories = sorted({i.repository for i in document.spec.images if i.sign})
        policies.append(
            DocumentPolicy(
                name=registry,
                scopes=tuple(f"{registry}.{suffix}/{r}" for r in repositories),
                anchors=tuple(_anchors(document, chain)),
                identities=_identities(document, chain),
            )
        )
    if not policies:
        raise ConfigError("no spec document has a notation block; nothing to write")
    empty = [p.name for p in policies if not p.scopes]
    if empty:
        raise ConfigError(
            f"registry {empty[0]}: no image is sign: true, so its trust policy would have no "
            "registry scope; notation refuses a policy without one"
        )
    return policies
