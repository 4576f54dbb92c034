"""The plan as a value: ordered changes, each with its reason, before and after.

A plan is made by the pure planner, rendered by ``plan/render.py``, stored by
``plan/planfile.py`` and carried out by ``apply/executor.py``. Nothing here does I/O.
It carries no secrets: parameters are resource ids, names, digests and role ids.

Each ``Kind`` has one frozen parameter type: what its handler acts on, read by attribute.
The planner fills every field, so a handler never guesses a value from ``after`` or an id;
the JSON names of the fields are the documented ``params`` keys (docs/plan-json.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from acr_reconcile.errors import Diagnostic

# 1.1: key-vault, signing-certificate kinds; 1.2: notation-signature; 1.3: the summary
# and targets[].changes count as the text plan does (summary.folded: what they leave out)
# 1.4: signature-verification, trust-policy ``migration``
FORMAT_VERSION = "1.4"


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    NOOP = "no-op"

    @property
    def glyph(self) -> str:
        return {"create": "+", "update": "~", "delete": "-", "no-op": " "}[self.value]


class Reason(StrEnum):
    MISSING = "missing"  # absent live, declared in the spec
    DRIFT = "drift"  # live changed away from what was last applied for this spec
    SPEC_CHANGED = "spec-changed"  # the spec asks for something new
    PRUNE = "prune"  # live has it, the spec manages that kind and does not list it
    IN_SYNC = "in-sync"  # no-op
    ADOPTED = "adopted"  # no-op: exists under another name/id and is taken over as is


class Kind(StrEnum):
    """Resource kinds, in the order they are applied."""

    RESOURCE_GROUP = "resource-group"
    REGISTRY = "registry"
    TRUST_POLICY = "trust-policy"
    KEY_VAULT = "key-vault"
    ROLE_ASSIGNMENT = "role-assignment"
    SIGNING_CERTIFICATE = "signing-certificate"
    IMAGE_IMPORT = "image-import"
    TAG_SIGNATURE = "tag-signature"
    NOTATION_SIGNATURE = "notation-signature"
    SIGNATURE_VERIFICATION = "signature-verification"


@dataclass(frozen=True)
class ResourceGroupParams:
    subscription_id: str
    resource_group: str
    location: str
    tags: dict[str, str]


@dataclass(frozen=True)
class RegistryParams:
    subscription_id: str
    resource_group: str
    registry: str
    location: str  # an existing registry keeps its region: it is never moved
    sku: str
    admin_user_enabled: bool
    tags: dict[str, str]  # including the applied tag (live/state.py APPLIED_TAG)


@dataclass(frozen=True)
class TrustPolicyParams:
    subscription_id: str
    resource_group: str
    registry: str
    status: str  # "enabled" | "disabled"
    destructive: bool  # disabling deletes every signature for good
    # a migration from DCT: the handler disables only once this run wrote the DCT
    # inventory and verified every carried signature (apply/migration.py)
    migration: bool = False


@dataclass(frozen=True)
class RoleAssignmentParams:
    subscription_id: str
    resource_group: str
    registry: str
    scope: str
    name: str  # GUID: deterministic for a create, the live one when adopted or pruned
    principal_id: str  # object id, lower-case
    principal_type: str
    role_definition_guid: str  # bare lower-case GUID
    role_definition_id: str | None = None  # full id, for creates; None for a prune
    # a Key Vault role the identity running apply needs itself (to create the certificate,
    # to sign): apply of a saved plan checks it runs as the identity the plan grants it to
    for_caller: bool = False


@dataclass(frozen=True)
class KeyVaultParams:
    """A vault of ``notation.signingKey.keyVault``: created with RBAC authorization."""

    subscription_id: str
    resource_group: str  # the vault's (the spec's keyVault.resourceGroup or the document's)
    vault: str
    location: str  # the document's resource group location, for a create
    rbac_authorization: bool  # always True: the tool grants roles, never access policies
    soft_delete_retention_days: int  # soft delete is always on (Azure requires it)


@dataclass(frozen=True)
class SigningCertificateParams:
    """A self-signed code-signing certificate with the policy of ACR's signing tutorial."""

    subscription_id: str
    resource_group: str  # the vault's
    vault: str
    certificate: str
    subject: str
    key_type: str  # "RSA"
    key_size: int  # 2048
    exportable: bool  # False: the private key never leaves the vault
    key_usage: str  # "digitalSignature" (a critical keyUsage with only that bit)
    extended_key_usage: str  # "1.3.6.1.5.5.7.3.3" (codeSigning)
    validity_months: int
    # this plan grants the identity running apply a Key Vault role on the vault: Key Vault
    # honours it only after minutes, so the create waits for its 403s to clear (bounded)
    wait_for_roles: bool


@dataclass(frozen=True)
class ImageImportParams:
    subscription_id: str
    resource_group: str
    registry: str
    login_server: str | None  # None for a registry this plan creates
    repository: str
    tag: str
    source: str  # the reference as the spec wrote it
    source_registry: str  # the reference parsed (spec/reference.py): registry host
    source_image: str  # ... and image path on it, e.g. library/hello-world:latest
    target_tag: str  # "<repository>:<tag>"
    mode: str  # "NoForce": an import never overwrites a tag
    digest: str | None  # the spec's pin, if any


@dataclass(frozen=True)
class TagSignatureParams:
    subscription_id: str
    resource_group: str
    registry: str
    login_server: str | None  # None for a registry this plan creates
    repository: str
    tag: str
    gun: str | None  # None for a registry this plan creates
    digest: str | None  # None when known only after an import
    size: int | None
    role: str  # "targets" or "targets/releases"
    initialize: bool  # the repository has no trust data yet


@dataclass(frozen=True)
class NotationSignatureParams:
    """A Notary Project signature of the manifest one tag points to.

    Notation signs digests, not tags: a create signs ``digest`` and pushes the envelope,
    the empty config and the signature manifest with ``digest`` as its subject; a delete
    removes the signature manifest ``signature_digest`` (and its ``sha256-<hex>`` tag-schema
    entry where the registry has no referrers API). The key is named, never carried: a Key
    Vault certificate (``key_vault``/``certificate``) or PEM files (``key_file``/
    ``certificate_file``, resolved against the spec's directory).
    """

    subscription_id: str
    resource_group: str
    registry: str
    login_server: str | None  # None for a registry this plan creates
    repository: str
    tag: str
    digest: str | None  # the manifest signed; None when known only after an import
    size: int | None
    media_type: str | None  # of the manifest (the payload's descriptor); None after an import
    signature_format: str  # "cose" | "jws": of the new signature, or of the one deleted
    key_source: str  # "key-vault" | "file" | "none" (a delete needs no key)
    subject: str | None  # X.509 subject of the signing certificate, when known
    # None: apply learns it (a registry this plan creates); False: the registry has no
    # referrers API (customer-managed key), signatures are found by the sha256-<hex> tag
    referrers_api: bool | None
    key_vault: str | None = None
    certificate: str | None = None  # Key Vault certificate name
    key_file: str | None = None
    certificate_file: str | None = None
    signature_digest: str | None = None  # a delete: the signature manifest removed


@dataclass(frozen=True)
class SignatureVerificationParams:
    """The check between a migration's signatures and its trust disable: every digest of
    the DCT inventory this run wrote must carry a Notary Project signature that verifies
    under the signing certificate (``key_vault``/``certificate`` or ``certificate_file``)
    with ``subject`` as its identity. It writes nothing; the trust disable needs it."""

    subscription_id: str
    resource_group: str
    registry: str
    login_server: str
    digests: int  # how many digests the inventory carries (shown; the file decides)
    key_source: str  # "key-vault" | "file"
    subject: str | None  # the trusted identity; None: the certificate's own subject
    key_vault: str | None = None
    certificate: str | None = None
    certificate_file: str | None = None
    # this plan grants the identity running apply its Key Vault roles: a 403 reading the
    # certificate is waited out (bounded), as for the certificate create
    wait_for_roles: bool = False


ChangeParams = (
    ResourceGroupParams
    | RegistryParams
    | TrustPolicyParams
    | RoleAssignmentParams
    | KeyVaultParams
    | SigningCertificateParams
    | ImageImportParams
    | TagSignatureParams
    | NotationSignatureParams
    | SignatureVerificationParams
)
PARAMS_TYPES: dict[Kind, type[ChangeParams]] = {
    Kind.RESOURCE_GROUP: ResourceGroupParams,
    Kind.REGISTRY: RegistryParams,
    Kind.TRUST_POLICY: TrustPolicyParams,
    Kind.KEY_VAULT: KeyVaultParams,
    Kind.ROLE_ASSIGNMENT: RoleAssignmentParams,
    Kind.SIGNING_CERTIFICATE: SigningCertificateParams,
    Kind.IMAGE_IMPORT: ImageImportParams,
    Kind.TAG_SIGNATURE: TagSignatureParams,
    Kind.NOTATION_SIGNATURE: NotationSignatureParams,
    Kind.SIGNATURE_VERIFICATION: SignatureVerificationParams,
}
P = TypeVar("P", bound=ChangeParams)


@dataclass(frozen=True)
class AttributeChange:
    path: str  # e.g. "sku", "properties.adminUserEnabled", "tags.env"
    before: Any
    after: Any


@dataclass(frozen=True)
class Change:
    """One resource's planned change.

    ``address`` is unique within a plan and stable across plans of the same spec
    (``registry:<sub>/<name>``, ``role-assignment:<scope>|<principal>|<role>``,
    ``tag-signature:<sub>/<registry>/<repo>:<tag>``, as a new registry has no login server
    yet); ``depends_on`` lists addresses.
    ``params`` is what the executor needs to act: the parameter type of ``kind``
    (checked here, so a handler can rely on it), JSON-serialisable, no secrets.
    """

    address: str
    kind: Kind
    action: Action
    reason: Reason
    resource_id: str
    summary: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    diff: tuple[AttributeChange, ...] = ()
    depends_on: tuple[str, ...] = ()
    spec_location: str | None = None  # "FILE:LINE:COL: field.path"
    # the target (spec document's registry) the change belongs to: "<subscription>/<registry>"
    target: str = ""
    params: ChangeParams = field(kw_only=True)

    def __post_init__(self) -> None:
        expected = PARAMS_TYPES[self.kind]
        if type(self.params) is not expected:
            raise TypeError(
                f"{self.address}: a {self.kind.value} change takes {expected.__name__}, "
                f"not {type(self.params).__name__}"
            )

    @property
    def is_change(self) -> bool:
        return self.action is not Action.NOOP

    @property
    def destroys_trust(self) -> bool:
        """Disabling content trust deletes every signature for good: asks for consent."""
        return isinstance(self.params, TrustPolicyParams) and self.params.destructive

    def params_as(self, kind: type[P]) -> P:
        """The parameters as the handler of this kind reads them (typed for mypy)."""
        if not isinstance(self.params, kind):
            raise TypeError(f"{self.address}: parameters are {type(self.params).__name__}")
        return self.params


@dataclass(frozen=True)
class TargetSummary:
    """One spec document's registry, for fleet summaries."""

    subscription_id: str
    resource_group: str
    registry: str
    source: str  # FILE:LINE:COL of the document
    status: str  # "in-sync" | "drift" | "pending" | "error"
    changes: int


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]  # in a valid execution order
    diagnostics: tuple[Diagnostic, ...] = ()
    targets: tuple[TargetSummary, ...] = ()
    # key of each live read the plan used -> hash of what was read; apply of a saved plan
    # re-reads and refuses when any differs (also for the very first plan).
    fingerprints: dict[str, str] = field(default_factory=dict)
    format_version: str = FORMAT_VERSION
    # True when a change disables content trust: every signature is deleted for good, so
    # the CLI asks for --allow-destroy-trust on top of approval.
    destroys_trust: bool = False
    # the live properties each fingerprint was computed from (no secrets), so a stale saved
    # plan can say what changed, not only that something did.
    observed: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "error")

    @property
    def pending(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.is_change)

    @property
    def has_changes(self) -> bool:
        return any(c.is_change for c in self.changes)
