"""The ``notation:`` block of spec v1: how a registry's images are signed with Notary
Project signatures and which signatures its trust policy accepts.

Without ``signingKey`` the tool only verifies and reports. The key lives in Key Vault (the
vault and a self-signed certificate are created when missing) or, for development, in a
PEM key file next to the spec. Paths are relative to the spec file's directory, so a
spec and its development key can move together.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from acr_reconcile.notation.identity import (
    WILDCARD,
    DnError,
    format_dn,
    overlapping,
    parse_dn,
    parse_identity,
    require_trust_attributes,
)
from acr_reconcile.spec.conflicts import Problem, raise_at
from acr_reconcile.spec.rules import ResourceGroupName

# ARM's pattern for vault names (Microsoft.KeyVault/vaults, 2026-05-15) plus Key Vault's
# own rules: starts with a letter, ends with a letter or digit, no "--".
VAULT_NAME_PATTERN = r"^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$"
# Key Vault object names (certificates/{certificate-name}, data plane 2026-04-01).
CERTIFICATE_NAME_PATTERN = r"^[0-9a-zA-Z-]{1,127}$"
MAX_PATH = 1024
MAX_VALIDITY_MONTHS = 1200


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        strict=True,
    )


def _vault_name(value: str) -> str:
    if not re.fullmatch(VAULT_NAME_PATTERN, value, re.ASCII):
        raise PydanticCustomError(
            "vault_name",
            "a Key Vault name is 3-24 letters, digits and '-', starting with a letter, "
            f"ending with a letter or digit, without '--'; got {value[:60]!r}",
        )
    return value


def _certificate_name(value: str) -> str:
    if not re.fullmatch(CERTIFICATE_NAME_PATTERN, value, re.ASCII):
        raise PydanticCustomError(
            "certificate_name",
            f"a Key Vault certificate name is 1-127 letters, digits and '-'; got {value[:60]!r}",
        )
    return value


def _subject(value: str) -> str:
    try:
        dn = parse_dn(value)
        require_trust_attributes(dn)
    except DnError as error:
        message = str(error).replace("a trusted identity", "the subject (the default identity)")
        raise PydanticCustomError("subject", message) from None
    return format_dn(dn)


def _relative_path(value: str) -> str:
    if not value.strip() or len(value) > MAX_PATH or "\0" in value:
        raise PydanticCustomError(
            "file_path", f"must be a file path of 1-{MAX_PATH} characters (relative to the spec)"
        )
    return value


def _identity(value: str) -> str:
    try:
        dn = parse_identity(value)
    except DnError as error:
        raise PydanticCustomError("trusted_identity", str(error)) from None
    return WILDCARD if dn is None else f"x509.subject: {format_dn(dn)}"


def _schema(**schema: object) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", **schema})


VaultName = Annotated[str, AfterValidator(_vault_name), _schema(pattern=VAULT_NAME_PATTERN)]
CertificateName = Annotated[
    str, AfterValidator(_certificate_name), _schema(pattern=CERTIFICATE_NAME_PATTERN)
]
Subject = Annotated[str, AfterValidator(_subject), _schema(minLength=1)]
RelativePath = Annotated[
    str, AfterValidator(_relative_path), _schema(minLength=1, maxLength=MAX_PATH)
]
TrustedIdentity = Annotated[
    str,
    AfterValidator(_identity),
    _schema(pattern=r"^(\*|x509\.subject:.+)$"),
]


class SignatureFormat(StrEnum):
    COSE = "cose"
    JWS = "jws"


class KeyVaultKeySpec(_Model):
    """A certificate (and its key) in Azure Key Vault; both are created when missing."""

    name: VaultName = Field(description="The vault; created with RBAC authorization if missing.")
    resource_group: ResourceGroupName | None = Field(
        default=None, description="Resource group of the vault; default the document's."
    )
    certificate: CertificateName = Field(
        description="Certificate name; created self-signed with `subject` if missing."
    )
    subject: Subject = Field(
        description="X.509 subject of the certificate; needs C, ST and O (Notation's rule "
        "for trusted identities), e.g. 'CN=release, O=Contoso, L=Seattle, ST=WA, C=US'.",
    )
    validity_months: int = Field(
        default=12,
        ge=1,
        le=MAX_VALIDITY_MONTHS,
        description="Validity of a certificate the tool creates, in months.",
    )


class FileKeySpec(_Model):
    """A key and certificate chain in PEM files, for development (paths relative to the spec)."""

    key: RelativePath = Field(description="PEM private key (PKCS#8 or traditional).")
    certificate: RelativePath = Field(description="PEM certificate chain, leaf first.")


class SigningKeySpec(_Model):
    """Where the signing key is: exactly one of keyVault and file."""

    key_vault: KeyVaultKeySpec | None = None
    file: FileKeySpec | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SigningKeySpec:
        given = [v for v in (self.key_vault, self.file) if v is not None]
        if len(given) != 1:
            raise PydanticCustomError(
                "signing_key",
                "a signing key is exactly one of keyVault or file; "
                f"{'both' if given else 'neither'} given",
            )
        return self


class NotationSpec(_Model):
    """Notary Project signing and the trust policy that verifies the signatures."""

    signing_key: SigningKeySpec | None = Field(
        default=None, description="Omitted: plan and apply only verify and report."
    )
    signature_format: SignatureFormat = Field(
        default=SignatureFormat.COSE,
        strict=False,
        description="Envelope of new signatures: cose (ACR's tutorials use it) or jws.",
    )
    trust_store: list[RelativePath] = Field(
        default_factory=list,
        description="Extra trust anchors (PEM files); the signing certificate is always trusted.",
    )
    prune: bool = Field(
        default=False,
        description="true: signatures of the document's tags that the trust policy does not "
        "trust are deleted; false: they are left alone.",
    )
    trusted_identities: list[TrustedIdentity] | None = Field(
        default=None,
        min_length=1,
        description="'x509.subject: C=.., ST=.., O=..' entries or '*'; default the signing "
        "certificate's subject.",
    )

    @model_validator(mode="after")
    def _identities_are_distinct(self) -> NotationSpec:
        identities = self.trusted_identities or []
        problems: list[Problem] = []
        if WILDCARD in identities and len(identities) > 1:
            message = "'*' trusts every certificate of the trust store; it must be the only entry"
            problems.append(
                (("trustedIdentities", identities.index(WILDCARD)), "wildcard", message)
            )
        else:
            parsed = [parse_dn(i.partition(":")[2]) for i in identities if i != WILDCARD]
            clash = overlapping(parsed)
            if clash is not None:
                first, later = clash
                message = (
                    f"overlaps trustedIdentities.{first}: one of them matches every subject "
                    "the other does; keep the one you mean"
                )
                problems.append((("trustedIdentities", later), "identity_overlap", message))
        raise_at("NotationSpec", problems)
        return self

    @model_validator(mode="after")
    def _something_to_trust(self) -> NotationSpec:
        if self.signing_key is None and not self.trust_store:
            raise PydanticCustomError(
                "nothing_trusted",
                "without signingKey the trust policy has no certificate to trust; "
                "list the signers' root certificates in trustStore",
            )
        if self.signing_key is None and self.trusted_identities is None:
            raise PydanticCustomError(
                "no_identity",
                "without signingKey there is no signing certificate to take the identity "
                "from; list trustedIdentities",
            )
        return self
