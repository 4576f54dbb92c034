"""Spec format v1 as pydantic models: the desired state a user writes.

Field names follow the YAML (camelCase aliases); Python attributes are snake_case.
Every model forbids unknown fields so a typo is an error, not a silently ignored key.
Validation rules carry the platform's real constraints and say the rule in their message.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

API_VERSION = "acr-reconcile/v1"
KIND = "RegistryTrust"


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        str_strip_whitespace=False,
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
    name: str
    location: str
    tags: dict[str, str] = Field(default_factory=dict)


class RegistrySpec(_Model):
    name: str
    sku: Sku = Sku.PREMIUM
    content_trust: TrustStatus = TrustStatus.DISABLED
    admin_user_enabled: bool = False
    tags: dict[str, str] = Field(default_factory=dict)


class PrincipalRef(_Model):
    """Exactly one of the three ways to name a principal."""

    object_id: str | None = None
    app_id: str | None = None
    display_name: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        """A hashable identity used to match live lookups: (kind, value)."""
        if self.object_id is not None:
            return ("objectId", self.object_id.lower())
        if self.app_id is not None:
            return ("appId", self.app_id.lower())
        return ("displayName", self.display_name or "")


class RoleDefinitionRef(_Model):
    role_definition_id: str


RoleRef = str | RoleDefinitionRef


class SignerSpec(_Model):
    name: str
    principal: PrincipalRef
    principal_type: PrincipalType = PrincipalType.SERVICE_PRINCIPAL
    roles: list[RoleRef]


class RoleAssignmentsSpec(_Model):
    prune: bool = False


class ImageSpec(_Model):
    repository: str
    tags: list[str]
    sign: bool = True
    source: str | None = None
    digest: str | None = None


class RegistryTrustSpec(_Model):
    """One document: one registry and everything about its content trust."""

    api_version: str
    kind: str
    subscription_id: str
    resource_group: ResourceGroupSpec
    registry: RegistrySpec
    signers: list[SignerSpec] = Field(default_factory=list)
    role_assignments: RoleAssignmentsSpec = Field(default_factory=RoleAssignmentsSpec)
    images: list[ImageSpec] = Field(default_factory=list)
