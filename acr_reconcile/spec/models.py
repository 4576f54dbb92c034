"""Spec format v1 as pydantic models: the desired state a user writes.

Field names follow the YAML (camelCase aliases); Python attributes are snake_case.
Every model forbids unknown fields so a typo is an error, not a silently ignored key, and
validates strictly so YAML's guesses (``1`` for a tag, ``yes`` for a name) are refused
rather than coerced. Validation rules carry the platform's real constraints and say the
rule in their message; cross-field rules point at the exact field that breaks them.
"""

from __future__ import annotations

import difflib
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from acr_reconcile.spec.conflicts import (
    Problem,
    image_conflicts,
    raise_at,
    role_conflicts,
    signer_conflicts,
)
from acr_reconcile.spec.notation import NotationSpec
from acr_reconcile.spec.roles import BUILTIN_ROLES, is_key_vault_role
from acr_reconcile.spec.rules import (
    DisplayName,
    Guid,
    ImageReference,
    ImageTag,
    Label,
    Region,
    RegistryName,
    Repository,
    ResourceGroupName,
    Sha256Digest,
    Tags,
)

API_VERSION = "acr-reconcile/v1"
KIND = "RegistryTrust"
# Names of the union branches of a role; the loader drops them from error paths.
ROLE_NAME_TAG = "builtin role"
ROLE_ID_TAG = "role definition"
# Optional top-level blocks added to v1 after specs were first applied.
ADDED_LATER = ("notation",)


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        str_strip_whitespace=False,
        strict=True,
    )


class Sku(StrEnum):
    BASIC = "Basic"
    STANDARD = "Standard"
    PREMIUM = "Premium"


class TrustStatus(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"


class PrincipalType(StrEnum):
    SERVICE_PRINCIPAL = "ServicePrincipal"
    USER = "User"
    GROUP = "Group"


class ResourceGroupSpec(_Model):
    """The resource group that holds the registry; created if missing."""

    name: ResourceGroupName = Field(
        description="1-90 letters, digits, _ ( ) - . ; not ending in '.'. Case-insensitive."
    )
    location: Region = Field(description="Azure region; immutable once the group exists.")
    tags: Tags = Field(default_factory=dict)


class RegistrySpec(_Model):
    """The container registry and its trust policy."""

    name: RegistryName = Field(
        description="5-50 letters and digits, globally unique (NAME.azurecr.io)."
    )
    sku: Sku = Field(default=Sku.PREMIUM, strict=False, description="Registry service tier.")
    content_trust: TrustStatus = Field(
        default=TrustStatus.DISABLED,
        strict=False,
        description="Docker Content Trust policy; 'enabled' needs the Premium SKU.",
    )
    admin_user_enabled: bool = Field(
        default=False, description="The registry's admin account; keep it off."
    )
    tags: Tags = Field(default_factory=dict)

    @field_validator("content_trust")
    @classmethod
    def _trust_needs_premium(cls, value: TrustStatus, info: ValidationInfo) -> TrustStatus:
        sku = info.data.get("sku")
        if value is TrustStatus.ENABLED and isinstance(sku, Sku) and sku is not Sku.PREMIUM:
            raise PydanticCustomError(
                "trust_needs_premium", f"content trust needs the Premium SKU (sku is {sku.value})"
            )
        return value


class PrincipalRef(_Model):
    """Exactly one of the three ways to name a principal."""

    object_id: Guid | None = Field(default=None, description="Entra object id of the principal.")
    app_id: Guid | None = Field(
        default=None, description="Application (client) id of a service principal."
    )
    display_name: DisplayName | None = Field(
        default=None, description="Display name; must match exactly one principal."
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> PrincipalRef:
        given = [v for v in (self.object_id, self.app_id, self.display_name) if v is not None]
        if len(given) != 1:
            raise PydanticCustomError(
                "principal_ref",
                "a principal is exactly one of objectId (GUID), appId (GUID) or displayName; "
                f"{len(given)} given",
            )
        return self

    @property
    def key(self) -> tuple[str, str]:
        """A hashable identity used to match live lookups: (kind, value)."""
        if self.object_id is not None:
            return ("objectId", self.object_id.lower())
        if self.app_id is not None:
            return ("appId", self.app_id.lower())
        return ("displayName", self.display_name or "")


class RoleDefinitionRef(_Model):
    """A role that is not a built-in registry role, by its role definition GUID."""

    role_definition_id: Guid = Field(description="Role definition GUID.")


RoleRef = str | RoleDefinitionRef


def _builtin_role(value: str) -> str:
    if value not in BUILTIN_ROLES:
        near = difflib.get_close_matches(value, list(BUILTIN_ROLES), n=1, cutoff=0.6)
        known = f"did you mean {near[0]}?" if near else f"use one of {', '.join(BUILTIN_ROLES)}"
        raise PydanticCustomError(
            "role_name",
            f"{value!r} is not a built-in registry or Key Vault role; {known} "
            "(or {roleDefinitionId: GUID} for another role)",
        )
    return value


def _role_branch(value: Any) -> str | None:
    if isinstance(value, str):
        return ROLE_NAME_TAG
    if isinstance(value, dict | RoleDefinitionRef):
        return ROLE_ID_TAG
    return None


BuiltinRoleName = Annotated[
    str,
    AfterValidator(_builtin_role),
    WithJsonSchema({"type": "string", "enum": list(BUILTIN_ROLES)}),
]
_RoleItem = Annotated[
    Annotated[BuiltinRoleName, Tag(ROLE_NAME_TAG)] | Annotated[RoleDefinitionRef, Tag(ROLE_ID_TAG)],
    Discriminator(
        _role_branch,
        custom_error_type="role_ref",
        custom_error_message="a role is a built-in role name (e.g. AcrPush) "
        "or a mapping {roleDefinitionId: GUID}",
    ),
]


class SignerSpec(_Model):
    """A principal and the roles it holds on the registry."""

    name: Label = Field(description="A label for output; unique within the document.")
    principal: PrincipalRef
    principal_type: PrincipalType = Field(
        default=PrincipalType.SERVICE_PRINCIPAL, strict=False, description="Kind of principal."
    )
    roles: list[_RoleItem] = Field(
        min_length=1,
        description="Built-in role names or {roleDefinitionId: GUID}; each role once.",
    )

    @field_validator("roles")
    @classmethod
    def _each_role_once(cls, roles: list[RoleRef]) -> list[RoleRef]:
        raise_at("SignerSpec.roles", role_conflicts(roles))
        return roles


class RoleAssignmentsSpec(_Model):
    """How role assignments not listed in the spec are treated."""

    prune: bool = Field(
        default=False,
        description="Remove assignments of the roles this spec manages that it does not list.",
    )


class ImageSpec(_Model):
    """Tags of one repository that must exist, and whether they must be signed."""

    repository: Repository = Field(description="Repository in the registry, e.g. hello-world.")
    tags: list[ImageTag] = Field(min_length=1, description="Tags of the repository.")
    sign: bool = Field(
        default=True, description="true: the tags must be signed; false: must stay unsigned."
    )
    source: ImageReference | None = Field(
        default=None, description="Image to import when a tag is missing."
    )
    digest: Sha256Digest | None = Field(
        default=None, description="Pin: every tag must point at this manifest digest."
    )

    @field_validator("digest")
    @classmethod
    def _agrees_with_source(cls, digest: str | None, info: ValidationInfo) -> str | None:
        source = info.data.get("source")
        pinned = source.rpartition("@")[2] if isinstance(source, str) and "@" in source else None
        if digest is not None and pinned is not None and pinned.lower() != digest:
            raise PydanticCustomError(
                "digest_mismatch",
                f"the digest differs from the one in source ({pinned}); an import keeps the "
                "source digest, so the tags could never match this pin",
            )
        return digest


class RegistryTrustSpec(_Model):
    """One document: one registry and everything about its content trust."""

    api_version: str = Field(description=f"Always {API_VERSION}.")
    kind: str = Field(description=f"Always {KIND}.")
    subscription_id: Guid = Field(description="Subscription of the resource group.")
    resource_group: ResourceGroupSpec
    registry: RegistrySpec
    signers: list[SignerSpec] = Field(
        default_factory=list, description="Principals and their roles; each principal once."
    )
    role_assignments: RoleAssignmentsSpec = Field(default_factory=RoleAssignmentsSpec)
    images: list[ImageSpec] = Field(
        default_factory=list,
        description="Tags to keep present and (un)signed; a repository:tag once per settings.",
    )
    notation: NotationSpec | None = Field(
        default=None,
        description="Notary Project (Notation) signatures: signing key, envelope format and "
        "the trust policy that verifies them.",
    )

    @field_validator("api_version")
    @classmethod
    def _known_version(cls, value: str) -> str:
        if value != API_VERSION:
            raise PydanticCustomError(
                "api_version", f"apiVersion must be {API_VERSION}; got {value!r}"
            )
        return value

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value != KIND:
            raise PydanticCustomError(
                "kind",
                f"kind must be {KIND}; got {value!r}",
            )
        return value

    @field_validator("signers")
    @classmethod
    def _each_principal_once(cls, signers: list[SignerSpec]) -> list[SignerSpec]:
        raise_at("RegistryTrustSpec.signers", signer_conflicts(signers))
        return signers

    @field_validator("images")
    @classmethod
    def _each_tag_once(cls, images: list[ImageSpec]) -> list[ImageSpec]:
        raise_at("RegistryTrustSpec.images", image_conflicts(images))
        return images

    def desired_dump(self) -> dict[str, Any]:
        """The full desired state as JSON data, for hashes that must stay stable: blocks
        added to v1 later (``notation``) appear only when written, so a document that does
        not use them hashes as it did before they existed (applied tags, saved plans)."""
        dump = self.model_dump(mode="json", by_alias=True)
        for name in ADDED_LATER:
            if dump.get(name) is None:
                dump.pop(name, None)
        return dump

    @model_validator(mode="after")
    def _signing_has_a_kind(self) -> RegistryTrustSpec:
        raise_at("RegistryTrustSpec", signing_problems(self))
        return self


def signing_problems(spec: RegistryTrustSpec) -> list[Problem]:
    """What to sign with: ``sign: true`` needs Docker Content Trust or a notation block,
    and Key Vault roles need a vault to be assigned on."""
    problems: list[Problem] = []
    dct = spec.registry.content_trust is TrustStatus.ENABLED
    if not dct and spec.notation is None:
        for index, image in enumerate(spec.images):
            if image.sign:
                message = (
                    "sign: true needs a kind of signature: registry.contentTrust: enabled "
                    "(Docker Content Trust) or a notation block (Notary Project signatures); "
                    "otherwise set sign: false"
                )
                problems.append((("images", index, "sign"), "sign_without_trust", message))
    if spec.notation is not None:
        problems += _pins_shared(spec.images)
    key = spec.notation.signing_key if spec.notation is not None else None
    vault = key is not None and key.key_vault is not None
    for index, signer in enumerate(spec.signers):
        for role_index, role in enumerate(signer.roles):
            if is_key_vault_role(role) and not vault:
                message = (
                    "a Key Vault role is assigned on the signing vault; this document has no "
                    "notation.signingKey.keyVault"
                )
                loc = ("signers", index, "roles", role_index)
                problems.append((loc, "vault_role_without_vault", message))
    return problems


def _pins_shared(images: list[ImageSpec]) -> list[Problem]:
    """Notation signs digests, not tags: a sign: false entry pinned to the digest a
    sign: true entry of the same repository pins would be signed too (the planner checks
    the same for the digests the registry serves)."""
    signed: dict[tuple[str, str], int] = {}
    for index, image in enumerate(images):
        if image.sign and image.digest is not None:
            signed.setdefault((image.repository, image.digest), index)
    problems: list[Problem] = []
    for index, image in enumerate(images):
        first = signed.get((image.repository, image.digest or ""))
        if not image.sign and first is not None:
            message = (
                f"pins {image.digest}, which images.{first} signs; Notary Project signatures "
                "are made for digests, so these tags would be signed too"
            )
            problems.append((("images", index, "sign"), "digest_signed_elsewhere", message))
    return problems
