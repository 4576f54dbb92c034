"""Builds planner inputs from the compact YAML of a case file (see cases/README.md).

Every spec document is deep-merged over DEFAULT_SPEC (the walkthrough without images) and
loaded by the real loader; live objects default to the walkthrough's names, so a case
states only what it is about.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from typing import Any

import yaml

from acr_reconcile.live import state as s
from acr_reconcile.live.dct import (
    DctInventory,
    DctReading,
    InventoryEntry,
    RepositoryDct,
    SignedEntry,
)
from acr_reconcile.live.state import APPLIED_TAG
from acr_reconcile.plan import names
from acr_reconcile.plan.fingerprint import desired_fingerprint
from acr_reconcile.spec.document import SpecDocument
from acr_reconcile.spec.loader import load_text
from acr_reconcile.spec.models import RegistryTrustSpec
from acr_reconcile.spec.roles import BUILTIN_ROLES

KEY_VAULT_ROLES = {
    "Key Vault Administrator": "00482a5a-887f-4fb3-b363-3b7fe8e74483",
    "Key Vault Crypto Officer": "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
}

SUB = "00000000-0000-0000-0000-000000000000"
SIGNER_APP = "11111111-1111-1111-1111-111111111111"
SIGNER_OID = "aaaaaaaa-0000-0000-0000-000000000001"

DEFAULT_SPEC: dict[str, Any] = {
    "apiVersion": "acr-reconcile/v1",
    "kind": "RegistryTrust",
    "subscriptionId": SUB,
    "resourceGroup": {"name": "resourcegroupdavid", "location": "westeurope"},
    "registry": {
        "name": "registrydavid",
        "sku": "Premium",
        "contentTrust": "enabled",
        "adminUserEnabled": False,
    },
    "signers": [
        {
            "name": "DavidServiceAccount",
            "principal": {"appId": SIGNER_APP},
            "principalType": "ServicePrincipal",
            "roles": ["AcrImageSigner", "AcrPush"],
        }
    ],
}


def _merge(base: Any, patch: Any) -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            merged[key] = _merge(base.get(key), value) if key in base else value
        return merged
    return copy.deepcopy(patch)


def build_documents(case: dict[str, Any], file: str) -> list[SpecDocument]:
    """The case's documents through the real loader, so locations are real too."""
    raw = case.get("spec", [{}])
    if isinstance(raw, dict):
        raw = [raw]
    merged = [_merge(DEFAULT_SPEC, patch or {}) for patch in raw]
    if case.get("bypassLoader"):  # inputs the loader refuses, to test the planner's own guard
        return [
            SpecDocument(RegistryTrustSpec.model_validate(m), file, i) for i, m in enumerate(merged)
        ]
    return load_text(yaml.safe_dump_all(merged, sort_keys=False), file)


def build_rules(case: dict[str, Any]) -> s.PlatformRules:
    raw = case.get("rules", {})
    return s.PlatformRules(
        today=raw.get("today", date(2026, 11, 24)),
        new_trust_enablement_allowed=raw.get("newTrustEnablementAllowed", False),
        note=raw.get("note"),
    )


def _role(value: str) -> str:
    return BUILTIN_ROLES.get(value, KEY_VAULT_ROLES.get(value, value))


def _scope(raw: str, reg: s.LiveRegistry) -> str:
    sub_scope = f"/subscriptions/{SUB}"
    return {
        "registry": reg.id,
        "resourceGroup": names.resource_group_id(SUB, reg.resource_group),
        "subscription": sub_scope,
    }.get(raw, raw)


def _assignment(raw: dict[str, Any], reg: s.LiveRegistry) -> s.LiveRoleAssignment:
    scope = _scope(raw.get("scope", "registry"), reg)
    role = _role(raw["role"])
    principal = raw.get("principal", SIGNER_OID)
    name = raw.get("name") or names.role_assignment_name(scope, principal, role)
    return s.LiveRoleAssignment(
        id=names.role_assignment_id(scope, name),
        name=name,
        scope=scope,
        role_definition_guid=role,
        principal_id=principal,
        principal_type=raw.get("principalType", "ServicePrincipal"),
    )


def _tag(raw: dict[str, Any]) -> s.LiveTag:
    return s.LiveTag(
        repository=raw["repository"],
        tag=raw["tag"],
        digest=raw.get("digest"),
        size=raw.get("size"),
        trust=s.TagTrust(raw.get("trust", "unsigned")),
        signed_digest=raw.get("signedDigest"),
        signed_size=raw.get("signedSize"),
        media_type=raw.get("mediaType", "application/vnd.oci.image.manifest.v1+json"),
        signatures=tuple(_notation_signature(n) for n in raw.get("signatures", ())),
    )


def _notation_signature(raw: dict[str, Any]) -> s.LiveNotationSignature:
    return s.LiveNotationSignature(
        digest=raw["digest"],
        signature_format=raw.get("format", "cose"),
        verdict=s.SignatureVerdict(raw.get("verdict", "trusted")),
        subject=raw.get("subject", "CN=release, O=Contoso, ST=WA, C=US"),
        reason=raw.get("reason"),
        expired=raw.get("expired", False),
    )


def _repository(raw: dict[str, Any], login_server: str) -> s.LiveRepositoryTrust:
    return s.LiveRepositoryTrust(
        repository=raw["repository"],
        gun=f"{login_server}/{raw['repository']}",
        exists=raw.get("exists", True),
        valid=raw.get("valid", True),
        error=raw.get("error"),
        root_key_id=raw.get("rootKeyId"),
        warnings=tuple(raw.get("warnings", ())),
        signable_roles=tuple(raw.get("signableRoles", ("targets",))),
        versions=raw.get("versions", {}),
        key_problem=raw.get("keyProblem"),
    )


def _dct(raw: dict[str, Any] | None, name: str, login: str) -> DctReading | None:
    """``dct: {repositories: [{repository, rootKeyId, error, signed: [{tag, digest, size,
    role}]}], served: [{repository, tag, digest, size}]}``; a signed tag not in ``served``
    is served as signed (pass ``digest: null`` for a tag gone from the registry)."""
    if raw is None:
        return None
    expires = datetime(2029, 1, 1, tzinfo=UTC)
    repos, manifests = [], {}
    for r in raw.get("repositories", []):
        entries = tuple(
            SignedEntry(
                e["tag"], e["digest"], e.get("size", 527), e.get("role", "targets"), expires
            )
            for e in r.get("signed", [])
        )
        error = r.get("error")
        root = None if error else r.get("rootKeyId", "1" * 64)
        repos.append(
            RepositoryDct(r["repository"], f"{login}/{r['repository']}", entries, root, error)
        )
        for e in entries:
            manifests[(r["repository"], e.tag)] = (e.digest, e.size)
    for m in raw.get("served", []):
        served = (m["digest"], m.get("size", 527)) if m.get("digest") else None
        manifests[(m["repository"], m["tag"])] = served
    read_at = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    schema2 = "application/vnd.docker.distribution.manifest.v2+json"
    media = {(r, m[0]): schema2 for (r, _), m in manifests.items() if m is not None}
    return DctReading(name, login, read_at, tuple(repos), manifests, media)


def _dct_file(raw: dict[str, Any] | None, name: str, login: str) -> s.DctEvidence | None:
    """``dctFile: {path, entries: [{repository, tag, digest, size, role}], gone: [digest]}``:
    the inventory file a migration wrote, read back once trust is disabled; a digest in
    ``gone`` is no longer in the registry."""
    if raw is None:
        return None
    expires = datetime(2029, 1, 1, tzinfo=UTC)
    entries = tuple(
        sorted(
            InventoryEntry(
                e["repository"],
                e["tag"],
                e.get("role", "targets"),
                e["digest"],
                e.get("size", 527),
                expires,
                "1" * 64,
            )
            for e in raw.get("entries", [])
        )
    )
    read_at = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    inventory = DctInventory(name, login, read_at, entries)
    gone = set(raw.get("gone", []))
    schema2 = "application/vnd.docker.distribution.manifest.v2+json"
    media: dict[tuple[str, str], str | None] = {
        (e.repository, e.digest): None if e.digest in gone else schema2 for e in entries
    }
    return s.DctEvidence(raw.get("path", f"dct-inventory-{name}-2026-11-24.json"), inventory, media)


def _carried(
    raw: list[dict[str, Any]],
) -> dict[tuple[str, str], tuple[s.LiveNotationSignature, ...]]:
    """``carried: [{repository, digest, signatures: [...]}]``: the Notation signatures read
    for each digest the migration carries (listed in the document or not)."""
    return {
        (c["repository"], c["digest"]): tuple(
            _notation_signature(n) for n in c.get("signatures", ())
        )
        for c in raw
    }


def _registry(raw: dict[str, Any], docs: list[SpecDocument]) -> s.LiveRegistryData:
    name = raw.get("name", "registrydavid")
    group = raw.get("resourceGroup", "resourcegroupdavid")
    tags = dict(raw.get("tags", {}))
    if raw.get("applied"):
        doc = next(d for d in docs if d.spec.registry.name.lower() == name.lower())
        tags[APPLIED_TAG] = desired_fingerprint(doc)
    login = raw.get("loginServer", f"{name.lower()}.azurecr.io")
    reg = s.LiveRegistry(
        id=names.registry_id(SUB, group, name),
        name=name,
        resource_group=group,
        location=raw.get("location", "westeurope"),
        sku=raw.get("sku", "Premium"),
        login_server=login,
        admin_user_enabled=raw.get("adminUserEnabled", False),
        trust_status=raw.get("trust", "enabled"),
        role_assignment_mode=raw.get("mode", "LegacyRegistryPermissions"),
        encryption_enabled=raw.get("encryption", False),
        tags=tags,
    )
    assignments = list(raw.get("roleAssignments", []))
    if raw.get("signerRoles"):
        assignments += [{"role": "AcrImageSigner"}, {"role": "AcrPush"}]
    return s.LiveRegistryData(
        registry=reg,
        role_assignments=tuple(_assignment(a, reg) for a in assignments),
        tags={(t["repository"], t["tag"]): _tag(t) for t in raw.get("images", [])},
        repositories={r["repository"]: _repository(r, login) for r in raw.get("repositories", [])},
        notation_read=raw.get("notationRead", True),
        notation_problem=raw.get("notationProblem"),
        referrers_api=raw.get("referrersApi", not raw.get("encryption", False)),
        dct=_dct(raw.get("dct"), name, login),
        dct_file=_dct_file(raw.get("dctFile"), name, login),
        carried=_carried(raw.get("carried", [])),
    )


def _principal(raw: dict[str, Any]) -> s.LivePrincipal:
    return s.LivePrincipal(
        object_id=raw["objectId"],
        app_id=raw.get("appId"),
        display_name=raw.get("displayName", "someone"),
        principal_type=raw.get("type", "ServicePrincipal"),
    )


def _resolution(raw: dict[str, Any]) -> tuple[tuple[str, str], s.PrincipalResolution]:
    kind = next(k for k in ("objectId", "appId", "displayName") if k in raw and k != "objectId")
    key = (kind, raw[kind] if kind == "displayName" else raw[kind].lower())
    status = s.ResolutionStatus(raw.get("status", "found"))
    if status is s.ResolutionStatus.FOUND:
        return key, s.PrincipalResolution(status, _principal(raw))
    candidates = tuple(_principal(c) for c in raw.get("candidates", []))
    return key, s.PrincipalResolution(status, None, candidates)


def _signing(raw: dict[str, Any] | None) -> s.SigningReadiness | None:
    if raw is None:
        return None
    return s.SigningReadiness(
        trust_dir="/home/ci/.docker/trust",
        root_key_available=raw.get("rootKey", True),
        root_passphrase_available=raw.get("rootPassphrase", True),
        repository_passphrase_available=raw.get("repositoryPassphrase", True),
        interactive=raw.get("interactive", False),
        root_key_problem=raw.get("rootKeyProblem"),
    )


def _certificate(raw: dict[str, Any]) -> s.LiveCertificate:
    """Defaults: the tutorial's policy and the subject the key-vault cases' spec uses."""
    return s.LiveCertificate(
        name=raw.get("name", "release"),
        exists=raw.get("exists", True),
        readable=raw.get("readable", True),
        problem=raw.get("problem"),
        subject=raw.get("subject", "CN=release, O=Contoso, L=Seattle, ST=WA, C=US"),
        key_type=raw.get("keyType", "RSA"),
        key_size=raw.get("keySize", 2048),
        exportable=raw.get("exportable", False),
        key_usage=tuple(raw.get("keyUsage", ["digitalSignature"])),
        extended_key_usage=tuple(raw.get("extendedKeyUsage", ["1.3.6.1.5.5.7.3.3"])),
        expires=datetime.fromisoformat(raw.get("expires", "2027-11-24T00:00:00+00:00")),
    )


def _key_vault(raw: dict[str, Any]) -> s.LiveKeyVaultData:
    name = raw.get("name", "contoso-signing")
    group = raw.get("resourceGroup", "resourcegroupdavid")
    vault = s.LiveKeyVault(
        id=names.key_vault_id(SUB, group, name),
        name=name,
        resource_group=group,
        location=raw.get("location", "westeurope"),
        vault_uri=f"https://{name}.vault.azure.net/",
        rbac_authorization=raw.get("rbac", True),
        soft_delete=raw.get("softDelete", True),
    )
    assignments = []
    for a in raw.get("roleAssignments", []):
        scope = {"vault": vault.id, "subscription": f"/subscriptions/{SUB}"}.get(
            a.get("scope", "vault"), a.get("scope", "vault")
        )
        role, principal = _role(a["role"]), a.get("principal", SIGNER_OID)
        assignment_name = a.get("name") or names.role_assignment_name(scope, principal, role)
        assignments.append(
            s.LiveRoleAssignment(
                id=names.role_assignment_id(scope, assignment_name),
                name=assignment_name,
                scope=scope,
                role_definition_guid=role,
                principal_id=principal,
                principal_type=a.get("principalType", "ServicePrincipal"),
            )
        )
    certificates = {
        c.get("name", "release").lower(): _certificate(c) for c in raw.get("certificates", [])
    }
    return s.LiveKeyVaultData(vault, tuple(assignments), certificates)


def build_live(case: dict[str, Any], docs: list[SpecDocument]) -> s.LiveState:
    raw = case.get("live") or {}
    groups = {
        (SUB, g.get("name", "resourcegroupdavid").lower()): s.LiveResourceGroup(
            id=names.resource_group_id(SUB, g.get("name", "resourcegroupdavid")),
            name=g.get("name", "resourcegroupdavid"),
            location=g.get("location", "westeurope"),
            tags=g.get("tags", {}),
        )
        for g in raw.get("resourceGroups", [])
    }
    registries = {}
    for r in raw.get("registries", []):
        data = _registry(r, docs)
        registries[(SUB, data.registry.name.lower())] = data
    default_signer = {"appId": SIGNER_APP, "objectId": SIGNER_OID, "displayName": "David"}
    principals = dict(_resolution(p) for p in raw.get("principals", [default_signer]))
    availability = {
        name.lower(): s.NameAvailability(
            v.get("available", True), v.get("reason"), v.get("message")
        )
        for name, v in raw.get("nameAvailability", {}).items()
    }
    return s.LiveState(
        resource_groups=groups,
        registries=registries,
        principals=principals,
        directory={d["objectId"].lower(): _principal(d) for d in raw.get("directory", [])},
        directory_read=raw.get("directoryRead", True),
        name_availability=availability,
        caller_object_id=raw.get("caller"),
        caller_principal_type=raw.get("callerType"),
        signing=_signing(raw.get("signing")),
        key_vault_names={
            name.lower(): s.NameAvailability(
                v.get("available", True), v.get("reason"), v.get("message")
            )
            for name, v in raw.get("keyVaultNames", {}).items()
        },
        key_vaults={
            (SUB, v.get("name", "contoso-signing").lower()): _key_vault(v)
            for v in raw.get("keyVaults", [])
        },
    )
