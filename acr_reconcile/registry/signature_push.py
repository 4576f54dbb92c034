"""Putting a Notary Project signature into a registry, and taking one out.

A push uploads the empty config (once per repository and client: every signature
shares it) and the envelope blob, then the signature manifest by its
digest, all as the bytes given (the manifest's digest is over exactly what is sent). The
registry says whether it handled the manifest's ``subject`` (``OCI-Subject``, the OCI 1.1
referrers API); where it did not, the manifest is added to the ``sha256-<hex>`` index
(``tag_schema``), as the distribution spec requires of the client.

A removal takes the manifest out of that index first and deletes it second: a run that
ends between the two leaves an unlisted manifest nobody counts, never an index entry
naming a manifest that is gone (which a registry that checks index entries would refuse
on every later update of that index).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from acr_reconcile.notation.manifest import OCI_MANIFEST, SIGNATURE_ARTIFACT_TYPE, SignatureArtifact
from acr_reconcile.registry.client import RegistryClient
from acr_reconcile.registry.referrers import tag_schema_index
from acr_reconcile.registry.tag_schema import update_index


@dataclass(frozen=True)
class Pushed:
    digest: str  # of the signature manifest
    referrers_api: bool  # False: listed in the sha256-<hex> index by this push
    note: str


def index_descriptor(artifact: SignatureArtifact) -> dict[str, Any]:
    """The signature's entry in a referrers index: its descriptor, artifactType and
    every annotation of the manifest (as the spec asks)."""
    manifest = json.loads(artifact.manifest)
    entry: dict[str, Any] = {
        "mediaType": OCI_MANIFEST,
        "digest": artifact.digest,
        "size": len(artifact.manifest),
        "artifactType": manifest.get("artifactType") or SIGNATURE_ARTIFACT_TYPE,
    }
    if manifest.get("annotations"):
        entry["annotations"] = manifest["annotations"]
    return entry


def push_signature(
    client: RegistryClient, repository: str, subject_digest: str, artifact: SignatureArtifact
) -> Pushed:
    client.push_shared_blob(repository, artifact.config)
    client.push_blob(repository, artifact.envelope)
    pushed = client.put_manifest(repository, artifact.digest, artifact.manifest, OCI_MANIFEST)
    if pushed.oci_subject and pushed.oci_subject.strip() == subject_digest:
        return Pushed(artifact.digest, True, "pushed (referrers API)")
    note = update_index(client, repository, subject_digest, add=index_descriptor(artifact))
    return Pushed(artifact.digest, False, f"pushed; {note}")


def remove_signature(
    client: RegistryClient, repository: str, subject_digest: str, signature_digest: str
) -> str:
    """Out of the tag-schema index (if the subject has one), then the manifest deleted."""
    parts = []
    entries, index_digest = tag_schema_index(client, repository, subject_digest)
    if index_digest is not None and any(e.digest == signature_digest for e in entries):
        parts.append(update_index(client, repository, subject_digest, remove=signature_digest))
    deleted = client.delete_manifest(repository, signature_digest)
    parts.append("deleted the signature manifest" if deleted else "the manifest was already gone")
    return "; ".join(parts)
