"""Live state as plain frozen dataclasses: what the readers found, with no SDK types.

The planner is a pure function of (spec documents, LiveState, PlatformRules); these types
are its whole view of Azure and of the registries' data planes. Readers build them;
tests build them from YAML data files. Keys are normalised: subscription ids, resource
group and registry names lower-case (Azure compares them case-insensitively), role
definition ids as bare lower-case GUIDs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from acr_reconcile.live.dct import DctInventory, DctReading

# Registry tag the executor writes on every registry create/update: the desired-state hash of
# the document as last applied (``plan.fingerprint.desired_fingerprint``). It tells drift
# (live moved away from an applied spec) from a new spec without a state file; it is a live
# fact, so the planner compares it and export leaves it out, and it is never part of a tag diff.
APPLIED_TAG = "acr-reconcile.applied"


@dataclass(frozen=True)
class LiveResourceGroup:
    id: str
    name: str
    location: str
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LiveRegistry:
    id: str  # full ARM id, as Azure spells it
    name: str
    resource_group: str  # as in the id
    location: str
    sku: str  # Basic | Standard | Premium | Classic
    login_server: str  # host[:port] of the data plane (registry API and trust server)
    admin_user_enabled: bool
    trust_status: str  # "enabled" | "disabled"
    role_assignment_mode: str = "LegacyRegistryPermissions"  # | "AbacRepositoryPermissions"
    encryption_enabled: bool = False  # customer-managed keys: DCT unsupported
    provisioning_state: str = "Succeeded"
    tags: dict[str, str] = field(default_factory=dict)
    etag: str | None = None  # fingerprint of the properties the plan depends on


@dataclass(frozen=True)
class LiveRoleAssignment:
    id: str  # full id: {scope}/providers/Microsoft.Authorization/roleAssignments/{name}
    name: str  # GUID
    scope: str
    role_definition_guid: str  # bare lower-case GUID
    principal_id: str  # object id, lower-case
    principal_type: str


@dataclass(frozen=True)
class LivePrincipal:
    object_id: str
    app_id: str | None
    display_name: str
    principal_type: str  # ServicePrincipal | User | Group


class ResolutionStatus(StrEnum):
    FOUND = "found"
    NOT_FOUND = "not-found"
    AMBIGUOUS = "ambiguous"


@dataclass(frozen=True)
class PrincipalResolution:
    """How a spec's principal reference resolved in the directory (Microsoft Graph)."""

    status: ResolutionStatus
    principal: LivePrincipal | None = None
    candidates: tuple[LivePrincipal, ...] = ()  # when ambiguous


class TagTrust(StrEnum):
    SIGNED = "signed"  # signed, and the signed hash/length match the registry manifest
    STALE = "stale"  # signed for another digest or size than the registry now serves
    UNSIGNED = "unsigned"  # the repository has trust data, but not for this tag
    NO_TRUST_DATA = "no-trust-data"  # the repository has no trust data at all
    INVALID = "invalid"  # trust data failed verification (see LiveRepositoryTrust.error)


class SignatureVerdict(StrEnum):
    """One Notary Project signature judged under the document's trust policy."""

    TRUSTED = "trusted"  # passes every check (store, identity, validity, expiry)
    UNTRUSTED = "untrusted"  # intact, but not trusted (``reason`` says which check)
    INVALID = "invalid"  # fails integrity, or is about another manifest


@dataclass(frozen=True)
class LiveNotationSignature:
    """A signature manifest whose subject is a tag's manifest, as read and verified.

    Found through the referrers API, or by the ``sha256-<hex>`` tag where the registry
    has none; verified over the bytes read (``acr_reconcile.notation.verify``).
    """

    digest: str  # of the signature manifest
    signature_format: str  # "cose" | "jws"
    verdict: SignatureVerdict
    subject: str | None = None  # leaf certificate subject, when the chain decoded
    reason: str | None = None  # why untrusted or invalid
    expired: bool = False  # untrusted because a certificate or the signature expired
    in_tag_schema: bool = False  # listed in the sha256-<hex> tag-schema index
    # SHA-256 fingerprints of the envelope's chain, leaf first, as its manifest announces
    # them (lower case); apply compares the leaf's with its own certificate's
    thumbprints: tuple[str, ...] = ()


@dataclass(frozen=True)
class LiveTag:
    repository: str
    tag: str
    digest: str | None  # manifest digest in the registry; None when the tag is absent
    size: int | None  # manifest length in bytes
    trust: TagTrust
    signed_digest: str | None = None  # what the trust data says, when signed or stale
    signed_size: int | None = None
    signed_role: str | None = None  # "targets" or "targets/releases"
    media_type: str | None = None  # of the manifest, for a Notary Project payload
    # Notary Project signatures of the manifest (notation documents only)
    signatures: tuple[LiveNotationSignature, ...] = ()


@dataclass(frozen=True)
class LiveRepositoryTrust:
    """Trust data of one repository (GUN) as verified by the Notary client."""

    repository: str
    gun: str
    exists: bool
    valid: bool = True
    error: str | None = None  # what failed verification, when not valid
    root_key_id: str | None = None
    warnings: tuple[str, ...] = ()  # e.g. "timestamp expires in 5 days"
    signable_roles: tuple[str, ...] = ()  # roles we hold keys for ("targets", "targets/releases")
    # a held key of this repository does not open with the passphrase given (why, no secret)
    key_problem: str | None = None
    versions: dict[str, int] = field(default_factory=dict)  # role -> metadata version read


@dataclass(frozen=True)
class SigningReadiness:
    """Local facts the executor needs to sign: keys and passphrases (never their values)."""

    trust_dir: str
    root_key_available: bool
    root_passphrase_available: bool
    repository_passphrase_available: bool
    interactive: bool
    # the first root key does not open with the root passphrase given (why, no secret)
    root_key_problem: str | None = None
    # the first root key is stored unencrypted (where, and why that matters)
    root_key_warning: str | None = None


@dataclass(frozen=True)
class DctEvidence:
    """The DCT inventory file of a migration whose trust is disabled already: what DCT
    vouched for, to finish carrying over from (live/dct_file.py reads it strictly)."""

    path: str
    inventory: DctInventory
    # (repository, digest) -> the manifest's media type, None when the registry lost it
    media_types: dict[tuple[str, str], str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class LiveRegistryData:
    """Everything read for one registry: its data plane and its role assignments."""

    registry: LiveRegistry
    role_assignments: tuple[LiveRoleAssignment, ...] = ()  # at the registry scope and above
    tags: dict[tuple[str, str], LiveTag] = field(default_factory=dict)  # (repository, tag)
    repositories: dict[str, LiveRepositoryTrust] = field(default_factory=dict)
    # Notary Project signatures were read for the document's tags (``LiveTag.signatures``);
    # False: this registry's signatures are unknown, so nothing about them can be planned
    notation_read: bool = False
    notation_problem: str | None = None  # why they were not read, when known
    # the registry answers the referrers API; False: signatures live in sha256-<hex> tags
    # (a registry with a customer-managed key); None: not known
    referrers_api: bool | None = None
    # every repository's Docker Content Trust, read when a document migrates away from it
    dct: DctReading | None = None
    # once trust is disabled: the DCT inventory a migration wrote, read back from its file
    dct_file: DctEvidence | None = None
    # (repository, digest) of each digest the migration carries -> its Notary Project
    # signatures, judged like the document's tags' (read also for tags it does not list)
    carried: dict[tuple[str, str], tuple[LiveNotationSignature, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class LiveKeyVault:
    id: str  # full ARM id, as Azure spells it
    name: str
    resource_group: str  # as in the id
    location: str
    vault_uri: str  # the data plane, https://<vault>.vault.azure.net/ on Azure
    rbac_authorization: bool  # False: the vault uses access policies
    soft_delete: bool
    provisioning_state: str = "Succeeded"


@dataclass(frozen=True)
class LiveCertificate:
    """A Key Vault certificate as read through the data plane (``certificates/read``).

    ``readable`` False: the vault answered 403 (``problem`` says why), nothing else is known.
    The policy fields are those of the certificate's policy; ``subject`` is the subject of
    the X.509 certificate itself (``format_dn`` form).
    """

    name: str
    exists: bool
    readable: bool = True
    problem: str | None = None
    subject: str | None = None
    key_type: str | None = None  # "RSA", "RSA-HSM", "EC", ...
    key_size: int | None = None
    exportable: bool | None = None
    key_usage: tuple[str, ...] = ()  # e.g. ("digitalSignature",)
    extended_key_usage: tuple[str, ...] = ()  # OIDs
    not_before: datetime | None = None
    expires: datetime | None = None
    key_id: str | None = None
    der: bytes | None = None  # the X.509 certificate


@dataclass(frozen=True)
class LiveKeyVaultData:
    """One signing vault: ARM's view, the role assignments that apply to it, and the
    certificates the spec names (read only when the vault exists)."""

    vault: LiveKeyVault
    role_assignments: tuple[LiveRoleAssignment, ...] = ()  # at the vault scope and above
    certificates: dict[str, LiveCertificate] = field(default_factory=dict)  # lower-case name


@dataclass(frozen=True)
class NameAvailability:
    available: bool
    reason: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class LiveState:
    """All live facts one plan depends on.

    ``resource_groups`` and ``registries`` are keyed by (subscription id, lower-case name);
    a registry is found by name anywhere in its subscription, so a registry that lives in
    another resource group than the spec says is reported, not recreated.
    """

    resource_groups: dict[tuple[str, str], LiveResourceGroup | None] = field(default_factory=dict)
    registries: dict[tuple[str, str], LiveRegistryData | None] = field(default_factory=dict)
    principals: dict[tuple[str, str], PrincipalResolution] = field(default_factory=dict)
    # principals of live assignments the specs do not list, by lower-case object id, so a
    # prune can name whom it removes; an id not here was not found (or not readable)
    directory: dict[str, LivePrincipal] = field(default_factory=dict)
    # False when that read failed (no Graph permission, Graph down): the ids are unnamed,
    # not unknown to the directory
    directory_read: bool = True
    # registry name (lower-case) -> availability, for registries not found in their subscription
    name_availability: dict[str, NameAvailability] = field(default_factory=dict)
    caller_object_id: str | None = None
    signing: SigningReadiness | None = None
    # signing vaults by (subscription id, lower-case vault name), found anywhere in the
    # subscription; None: no vault of that name there. A vault not in the map was not read.
    key_vaults: dict[tuple[str, str], LiveKeyVaultData | None] = field(default_factory=dict)
    # vault names (lower-case) not found in their subscription -> what blocks creating them:
    # a soft-deleted vault of that name there (``deleted``), or the global name check
    key_vault_names: dict[str, NameAvailability] = field(default_factory=dict)
    # "ServicePrincipal" | "User" for the identity running the plan (from its token), if known
    caller_principal_type: str | None = None


@dataclass(frozen=True)
class PlatformRules:
    """What the target cloud allows, decided before planning (see live/platform.py).

    On Azure, Docker Content Trust can no longer be enabled on a registry that does not
    have it since 2026-05-31 and is removed on 2028-03-31. The sandbox can emulate the
    years before the cut-off (``sandbox up --dct legacy``) and says so in its cloud metadata.
    """

    today: date
    new_trust_enablement_allowed: bool
    trust_enablement_cutoff: date = date(2026, 5, 31)
    trust_removal: date = date(2028, 3, 31)
    note: str | None = None  # e.g. "sandbox emulates the rules before the cut-off"
