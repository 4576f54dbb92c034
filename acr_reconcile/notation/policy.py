"""The trust policy and trust store that ``notation verify`` reads, as files.

``trustpolicy.oci.json`` (Notary Project trust store and trust policy specification,
version 1.0) gets one policy per spec document: its scopes are the repositories of the
document's ``sign: true`` images on the registry's login server, its store is
``ca:<registry>``, its identities the document's ``trustedIdentities`` (default the
signing certificate's subject), level ``strict``. The store directory
``truststore/x509/ca/<registry>/`` holds the root of the signing chain (the certificate
itself when self-signed) and the document's extra trust anchors, one PEM file each.
The same data builds the :class:`VerificationPolicy` this tool verifies with, so what
``notation`` enforces and what the tool reports cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from acr_reconcile.notation.identity import WILDCARD, parse_identity
from acr_reconcile.notation.verify import NamedStore, StoreType, VerificationPolicy

POLICY_FILE = "trustpolicy.oci.json"
POLICY_VERSION = "1.0"
STORE_DIR = "truststore/x509"


@dataclass(frozen=True)
class Anchor:
    """A trust anchor and the file name it gets in the store."""

    file_name: str
    certificate: x509.Certificate


@dataclass(frozen=True)
class DocumentPolicy:
    """What one spec document contributes to the trust policy."""

    name: str  # the policy and store name: the registry name, lower case
    scopes: tuple[str, ...]  # "<loginServer>/<repository>"
    anchors: tuple[Anchor, ...]
    identities: tuple[str, ...]  # "x509.subject: ..." or "*"

    @property
    def store(self) -> str:
        return f"{StoreType.CA.value}:{self.name}"


def policy_document(policies: Sequence[DocumentPolicy]) -> dict[str, object]:
    return {
        "version": POLICY_VERSION,
        "trustPolicies": [
            {
                "name": policy.name,
                "registryScopes": list(policy.scopes),
                "signatureVerification": {"level": "strict"},
                "trustStores": [policy.store],
                "trustedIdentities": list(policy.identities),
            }
            for policy in policies
        ],
    }


def policy_files(policies: Sequence[DocumentPolicy]) -> dict[str, bytes]:
    """Relative path -> content of every file to write under the output directory."""
    files = {
        POLICY_FILE: (json.dumps(policy_document(policies), indent=2) + "\n").encode(),
    }
    for policy in policies:
        for anchor in policy.anchors:
            path = f"{STORE_DIR}/{StoreType.CA.value}/{policy.name}/{anchor.file_name}"
            files[path] = anchor.certificate.public_bytes(Encoding.PEM)
    return files


def verification_policy(policy: DocumentPolicy) -> VerificationPolicy:
    """The policy as this tool's verifier applies it."""
    ders = tuple(a.certificate.public_bytes(Encoding.DER) for a in policy.anchors)
    identities = tuple(
        None if identity == WILDCARD else parse_identity(identity) for identity in policy.identities
    )
    return VerificationPolicy(
        policy.name, (NamedStore(StoreType.CA, policy.name, ders),), identities
    )
