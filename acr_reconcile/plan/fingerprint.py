"""Fingerprints: what a plan was based on, so a saved plan is refused once live state moves.

Every live object the planner looked at gets a readable key (``registry <sub>/<name>``)
and a hash of the properties it used. Absent objects are fingerprinted too: a registry
that did not exist at plan time and exists at apply time makes the plan stale, which also
covers the very first plan of a spec (there is no state file whose lineage could do it).
The observed properties are kept next to the hashes so a refusal can say what moved.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from acr_reconcile.live.state import LiveRegistryData, LiveState
from acr_reconcile.plan.diffing import attribute_diff
from acr_reconcile.spec.document import SpecDocument

Observation = dict[str, Any]


def _digest(data: Any, length: int = 16) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:length]


def desired_fingerprint(doc: SpecDocument) -> str:
    """A short, stable hash of a document's desired state: the value of APPLIED_TAG."""
    return _digest(doc.spec.desired_dump())


def _registry_observations(key: str, data: LiveRegistryData) -> dict[str, Observation]:
    reg = data.registry
    found: dict[str, Observation] = {
        f"registry {key}": {
            "exists": True,
            "resourceGroup": reg.resource_group.lower(),
            "location": reg.location,
            "sku": reg.sku,
            "adminUserEnabled": reg.admin_user_enabled,
            "trustStatus": reg.trust_status,
            "roleAssignmentMode": reg.role_assignment_mode,
            "encryptionEnabled": reg.encryption_enabled,
            "tags": dict(reg.tags),
        },
        f"role-assignments {key}": {
            "assignments": sorted(
                f"{a.scope.lower()}|{a.principal_id}|{a.role_definition_guid}|{a.name}"
                for a in data.role_assignments
            )
        },
    }
    return found


def _image_observations(key: str, doc: SpecDocument, data: LiveRegistryData) -> dict[str, Any]:
    found: dict[str, Observation] = {}
    for image in doc.spec.images:
        repo = data.repositories.get(image.repository)
        found[f"trust {key}/{image.repository}"] = {
            "exists": repo.exists if repo else False,
            "valid": repo.valid if repo else True,
            "rootKeyId": repo.root_key_id if repo else None,
            "versions": dict(repo.versions) if repo else {},
        }
        for tag in image.tags:
            live = data.tags.get((image.repository, tag))
            found[f"tag {key}/{image.repository}:{tag}"] = {
                "digest": live.digest if live else None,
                "size": live.size if live else None,
                "trust": live.trust.value if live else None,
                "signedDigest": live.signed_digest if live else None,
                "signedSize": live.signed_size if live else None,
            }
            if doc.spec.notation is not None:
                # only for notation documents: every earlier plan keeps its fingerprints
                found[f"tag {key}/{image.repository}:{tag}"]["signatures"] = [
                    [n.digest, n.verdict.value, n.expired]
                    for n in (live.signatures if live else ())
                ]
    return found


def _migration_observations(key: str, data: LiveRegistryData) -> dict[str, Observation]:
    """A migration's DCT trust data (or, once trust is disabled, its inventory file) and
    the signatures of every digest it carries: a saved migration plan is refused when DCT
    signed something else since, or a carried signature came or went. Read times are
    left out: only what was signed counts."""
    found: dict[str, Observation] = {}
    if data.dct is not None:
        reading = data.dct
        found[f"dct {key}"] = {
            "repositories": [
                {
                    "repository": r.repository,
                    "rootKeyId": r.root_key_id,
                    "error": r.error,
                    "signed": sorted(
                        f"{e.role}|{e.tag}|{e.digest}|{e.size}|{e.expires.isoformat()}"
                        for e in r.entries
                    ),
                }
                for r in reading.repositories
            ],
            "served": sorted(
                f"{repo}:{tag}|{served[0]}|{served[1]}" if served else f"{repo}:{tag}|gone"
                for (repo, tag), served in reading.manifests.items()
            ),
        }
    if data.dct_file is not None:
        evidence = data.dct_file
        found[f"dct-inventory {key}"] = {
            "path": evidence.path,
            "entries": sorted(
                f"{e.repository}:{e.tag}|{e.role}|{e.digest}|{e.size}"
                for e in evidence.inventory.entries
            ),
            "present": sorted(
                f"{repo}@{digest}"
                for (repo, digest), media in evidence.media_types.items()
                if media
            ),
        }
    if data.carried:
        found[f"carried-signatures {key}"] = {
            f"{repo}@{digest}": [[n.digest, n.verdict.value, n.expired] for n in signatures]
            for (repo, digest), signatures in sorted(data.carried.items())
        }
    return found


def _document_observations(doc: SpecDocument, live: LiveState) -> dict[str, Observation]:
    spec = doc.spec
    sub = spec.subscription_id.lower()
    rg = live.resource_groups.get((sub, spec.resource_group.name.lower()))
    found: dict[str, Observation] = {
        f"resource-group {sub}/{spec.resource_group.name.lower()}": (
            {"exists": True, "location": rg.location, "tags": dict(rg.tags)}
            if rg
            else {"exists": False}
        )
    }
    for signer in spec.signers:
        kind, value = signer.principal.key
        res = live.principals.get((kind, value))
        principal = res.principal if res else None
        found[f"principal {kind}:{value}"] = {
            "status": res.status.value if res else None,
            "objectId": principal.object_id if principal else None,
            "principalType": principal.principal_type if principal else None,
            "candidates": sorted(c.object_id for c in res.candidates) if res else [],
        }
    key = f"{sub}/{spec.registry.name.lower()}"
    data = live.registries.get((sub, spec.registry.name.lower()))
    if data is None:
        availability = live.name_availability.get(spec.registry.name.lower())
        found[f"registry {key}"] = {
            "exists": False,
            "nameAvailable": availability.available if availability else None,
        }
        return found
    found.update(_registry_observations(key, data))
    found.update(_image_observations(key, doc, data))
    found.update(_migration_observations(key, data))
    return found


def _vault_observations(doc: SpecDocument, live: LiveState) -> dict[str, Observation]:
    notation = doc.spec.notation
    signing = notation.signing_key if notation is not None else None
    key = signing.key_vault if signing is not None else None
    if key is None:
        return {}
    sub = doc.spec.subscription_id.lower()
    where = f"{sub}/{key.name.lower()}"
    data = live.key_vaults.get((sub, key.name.lower()))
    if data is None:
        name = live.key_vault_names.get(key.name.lower())
        return {
            f"key-vault {where}": {
                "exists": False,
                "nameAvailable": name.available if name else None,
                "nameReason": name.reason if name else None,
            }
        }
    vault = data.vault
    certificate = data.certificates.get(key.certificate.lower())
    found: dict[str, Observation] = {
        f"key-vault {where}": {
            "exists": True,
            "resourceGroup": vault.resource_group.lower(),
            "location": vault.location,
            "rbacAuthorization": vault.rbac_authorization,
            "softDelete": vault.soft_delete,
        },
        f"role-assignments key-vault {where}": {
            "assignments": sorted(
                f"{a.scope.lower()}|{a.principal_id}|{a.role_definition_guid}|{a.name}"
                for a in data.role_assignments
            )
        },
        f"certificate {where}/{key.certificate.lower()}": (
            {
                "exists": certificate.exists,
                "readable": certificate.readable,
                "subject": certificate.subject,
                "keyType": certificate.key_type,
                "keySize": certificate.key_size,
                "exportable": certificate.exportable,
                "keyUsage": list(certificate.key_usage),
                "extendedKeyUsage": list(certificate.extended_key_usage),
                "expires": certificate.expires.isoformat() if certificate.expires else None,
                "keyId": certificate.key_id,
            }
            if certificate is not None
            else {"exists": False}
        ),
    }
    return found


def live_observations(documents: Sequence[SpecDocument], live: LiveState) -> dict[str, Observation]:
    """The live properties the plan of ``documents`` depends on, keyed by a readable key."""
    found: dict[str, Observation] = {}
    for doc in documents:
        found.update(_document_observations(doc, live))
        found.update(_vault_observations(doc, live))
    return dict(sorted(found.items()))


def fingerprints_of(observations: Mapping[str, Observation]) -> dict[str, str]:
    return {key: f"sha256:{_digest(value)}" for key, value in observations.items()}


def live_fingerprints(documents: Sequence[SpecDocument], live: LiveState) -> dict[str, str]:
    """A stable hash per live object (present or absent) the plan of ``documents`` read."""
    return fingerprints_of(live_observations(documents, live))


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _explain(key: str, before: Observation | None, after: Observation | None) -> str:
    if before is None or after is None:
        return f"{key} changed since the plan"
    if before.get("exists") is False and after.get("exists") is not False:
        return f"{key} now exists (it was absent when the plan was made)"
    if after.get("exists") is False and before.get("exists") is not False:
        return f"{key} no longer exists (it existed when the plan was made)"
    moved = [
        f"{d.path} {_show(d.before)} → {_show(d.after)}" for d in attribute_diff(before, after)
    ]
    detail = "; ".join(moved) if moved else "properties differ"
    return f"{key} changed since the plan: {detail}"


def compare(
    saved: Mapping[str, str],
    fresh: Mapping[str, str],
    saved_observed: Mapping[str, Observation] | None = None,
    fresh_observed: Mapping[str, Observation] | None = None,
) -> list[str]:
    """One explanation per live object whose fingerprint moved; empty when the plan is fresh."""
    explanations: list[str] = []
    for key in sorted(set(saved) | set(fresh)):
        if saved.get(key) == fresh.get(key):
            continue
        if key not in fresh:
            explanations.append(f"{key} was not read again (the plan no longer depends on it)")
            continue
        if key not in saved:
            explanations.append(f"{key} was not part of the saved plan's reads")
            continue
        before = (saved_observed or {}).get(key)
        after = (fresh_observed or {}).get(key)
        explanations.append(_explain(key, before, after))
    return explanations
