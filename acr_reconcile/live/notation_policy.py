"""The trust policy a notation document verifies its registry's signatures with.

As ``trust-policy`` writes it for notation: the signing certificate is always trusted
(its chain's root is an anchor), ``trustStore`` adds anchors, and the trusted identities
are ``trustedIdentities`` or the signing certificate's subject. The signing certificate
comes from its PEM file, or from the vault as read (``LiveCertificate.der``); when it
cannot be had, the policy cannot be built and the signatures are not judged (why, as a
string, for the plan to say).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from cryptography import x509

from acr_reconcile.live.state import LiveCertificate
from acr_reconcile.notation.identity import (
    DnError,
    certificate_subject,
    identity_for,
    parse_dn,
)
from acr_reconcile.notation.policy import Anchor, DocumentPolicy, verification_policy
from acr_reconcile.notation.signer import SignerError, load_certificate_chain
from acr_reconcile.notation.verify import VerificationPolicy
from acr_reconcile.spec.document import SpecDocument


class Unreadable(str):
    """Why the vault's signing certificate could not be read (a 403 to a read-only
    identity): the signatures are then judged by subject (``by_subject``)."""


def _signing_chain(
    doc: SpecDocument, vault_certificate: LiveCertificate | None
) -> list[x509.Certificate] | Unreadable | str | None:
    """The chain, [] for a vault certificate still to create, None without a signing key,
    Unreadable when the vault would not give it, or why it cannot be had."""
    notation = doc.spec.notation
    assert notation is not None
    key = notation.signing_key
    if key is None:
        return None
    if key.file is not None:
        try:
            chain = load_certificate_chain(Path(doc.file).parent / key.file.certificate)
        except SignerError as error:
            return str(error)
        return chain or f"{key.file.certificate} holds no certificate"
    assert key.key_vault is not None
    name = f"{key.key_vault.name}/{key.key_vault.certificate}"
    if vault_certificate is None or not vault_certificate.exists:
        return []  # made by this plan: nothing can have been signed with it yet
    if vault_certificate.der is None:
        return Unreadable(
            f"the signing certificate {name} could not be read ({vault_certificate.problem})"
        )
    try:
        return [x509.load_der_x509_certificate(vault_certificate.der)]
    except ValueError:
        return f"the signing certificate {name} is not a DER X.509 certificate"


def document_verification_policy(
    doc: SpecDocument, vault_certificate: LiveCertificate | None
) -> VerificationPolicy | str:
    """The verifier's policy for ``doc``, or why there is none."""
    notation = doc.spec.notation
    assert notation is not None
    chain = _signing_chain(doc, vault_certificate)
    unreadable = isinstance(chain, Unreadable)
    if isinstance(chain, Unreadable):
        chain = []
    elif isinstance(chain, str):
        return chain
    anchors = [Anchor("signing-root.pem", chain[-1])] if chain else []
    for index, name in enumerate(notation.trust_store):
        try:
            certificates = load_certificate_chain(Path(doc.file).parent / name)
        except SignerError as error:
            return f"notation.trustStore.{index}: {error}"
        anchors += [Anchor(f"anchor-{index}-{n}.pem", c) for n, c in enumerate(certificates)]
    if notation.trusted_identities is not None:
        identities = tuple(notation.trusted_identities)
    elif chain:
        identities = (identity_for(certificate_subject(chain[0])),)
    elif notation.signing_key is not None and notation.signing_key.key_vault is not None:
        identities = (identity_for(parse_dn(notation.signing_key.key_vault.subject)),)
    else:
        return "no trusted identity: list notation.trustedIdentities"
    registry = doc.spec.registry.name.lower()
    try:
        policy = verification_policy(DocumentPolicy(registry, (), tuple(anchors), identities))
        return replace(policy, by_subject=True) if unreadable else policy
    except DnError as error:
        return f"the signing certificate's subject cannot be the trusted identity: {error}"
