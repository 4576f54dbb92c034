"""Assemble the LiveState one plan needs, with as few calls as a fleet allows.

Per subscription: three paged lists (resource groups, registries, role assignments).
Per distinct principal reference: one Graph lookup. Per registry not found: one name
check (registry names are global). Per registry with images: its data plane. The
independent reads run concurrently on a bounded thread pool; each is I/O bound.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from acr_reconcile.azure.clients import AzureSession
from acr_reconcile.azure.credentials import caller_object_id, caller_principal_type
from acr_reconcile.azure.graph import GraphClient
from acr_reconcile.live import arm, keyvault
from acr_reconcile.live.dct import DctReading, dct_inventory
from acr_reconcile.live.fanout import read_all
from acr_reconcile.live.graph import name_unknown, principal_refs, resolve
from acr_reconcile.live.notation import read_signatures
from acr_reconcile.live.notation_policy import document_verification_policy
from acr_reconcile.live.state import (
    DctEvidence,
    LiveCertificate,
    LiveKeyVault,
    LiveKeyVaultData,
    LiveNotationSignature,
    LiveRegistry,
    LiveRegistryData,
    LiveRepositoryTrust,
    LiveState,
    LiveTag,
    NameAvailability,
    PrincipalResolution,
    SigningReadiness,
)
from acr_reconcile.notation.payload import Descriptor
from acr_reconcile.notation.verify import VerificationPolicy
from acr_reconcile.registry.client import RegistryClient
from acr_reconcile.spec.document import SpecDocument
from acr_reconcile.spec.models import ImageSpec
from acr_reconcile.spec.notation import KeyVaultKeySpec

T = TypeVar("T")
ImageFacts = tuple[dict[tuple[str, str], LiveTag], dict[str, LiveRepositoryTrust]]
# reads one registry's data plane for the images a spec declares
ImageReader = Callable[[LiveRegistry, Sequence[ImageSpec]], ImageFacts]
# reads every repository's Docker Content Trust of one registry (live/dct_read.py)
DctReader = Callable[[LiveRegistry], DctReading]
# once trust is disabled: the inventory file a migration wrote, None when there is none
DctFileReader = Callable[[LiveRegistry], DctEvidence | None]

# the registry client of a login server, for Notary Project signatures (live/notation.py)
RegistryClients = Callable[[str], RegistryClient]

DEFAULT_PARALLELISM = 8


@dataclass
class _Pending:
    snapshots: dict[str, dict[str, Future[Any]]] = field(default_factory=dict)
    principals: dict[tuple[str, str], Future[PrincipalResolution]] = field(default_factory=dict)
    caller: Future[str | None] | None = None
    caller_type: Future[str | None] | None = None
    vaults: dict[tuple[str, str], Future[LiveKeyVault | None]] = field(default_factory=dict)


def read_live(
    documents: Sequence[SpecDocument],
    session: AzureSession,
    graph: GraphClient,
    *,
    parallelism: int = DEFAULT_PARALLELISM,
    images: ImageReader | None = None,
    signing: SigningReadiness | None = None,
    read_caller: bool = True,
    dct: DctReader | None = None,
    notation: RegistryClients | None = None,
    dct_file: DctFileReader | None = None,
) -> LiveState:
    """Everything ``documents`` depend on, read from Azure (and registry data planes)."""
    with ThreadPoolExecutor(max_workers=max(1, parallelism), thread_name_prefix="read") as pool:
        pending = _start(pool, documents, session, graph, read_caller)
        snapshots = {sub: _snapshot(sub, futures) for sub, futures in pending.snapshots.items()}
        principals = {key: f.result() for key, f in pending.principals.items()}
        caller = pending.caller.result() if pending.caller else None
        caller_type = pending.caller_type.result() if pending.caller_type else None
        vaults = _key_vaults(pool, session, documents, snapshots, pending.vaults)
        vault_names = {
            k[1]: f.result()
            for k, f in {
                k: pool.submit(keyvault.vault_name_availability, session, k[0], k[1])
                for k, v in vaults.items()
                if v is None
            }.items()
        }
        registries = _registries(documents, snapshots)
        availability = _name_checks(pool, session, registries)
        registries, availability = _taken_meanwhile(
            pool, session, documents, snapshots, registries, availability
        )
        registries = _with_images(pool, documents, registries, images)
        registries = _with_dct(pool, documents, registries, dct, dct_file)
        if notation is not None:  # after DCT: the digests a migration carries are known
            registries = _with_notation(pool, documents, registries, vaults, notation)
        directory, directory_read = name_unknown(graph, _unlisted(registries, vaults, principals))
    return LiveState(
        resource_groups={
            key: snapshots[key[0]].resource_groups.get(key[1]) for key in _rg_keys(documents)
        },
        key_vaults=vaults,
        key_vault_names=vault_names,
        caller_principal_type=caller_type,
        registries=registries,
        principals=principals,
        directory=directory,
        directory_read=directory_read,
        name_availability=availability,
        caller_object_id=caller,
        signing=signing,
    )


def _unlisted(
    registries: dict[tuple[str, str], LiveRegistryData | None],
    vaults: dict[tuple[str, str], LiveKeyVaultData | None],
    principals: dict[tuple[str, str], PrincipalResolution],
) -> set[str]:
    """Object ids holding roles on the specs' registries and vaults that no spec reference
    resolved to: the principals a prune may remove, to be named in the plan."""
    held = {a.principal_id.lower() for d in registries.values() if d for a in d.role_assignments}
    held |= {a.principal_id.lower() for v in vaults.values() if v for a in v.role_assignments}
    known = {r.principal.object_id.lower() for r in principals.values() if r.principal}
    return held - known


def _sub(doc: SpecDocument) -> str:
    return doc.spec.subscription_id.lower()


def _rg_keys(documents: Sequence[SpecDocument]) -> list[tuple[str, str]]:
    keys = [(_sub(d), d.spec.resource_group.name.lower()) for d in documents]
    for doc in documents:
        key = _vault_spec(doc)
        if key is not None and key.resource_group is not None:
            keys.append((_sub(doc), key.resource_group.lower()))
    return keys


def _vault_spec(doc: SpecDocument) -> KeyVaultKeySpec | None:
    """The document's ``notation.signingKey.keyVault``, or None."""
    notation = doc.spec.notation
    signing = notation.signing_key if notation is not None else None
    return signing.key_vault if signing is not None else None


def _key_vaults(
    pool: ThreadPoolExecutor,
    session: AzureSession,
    documents: Sequence[SpecDocument],
    snapshots: dict[str, arm.SubscriptionSnapshot],
    found: dict[tuple[str, str], Future[LiveKeyVault | None]],
) -> dict[tuple[str, str], LiveKeyVaultData | None]:
    """Each named vault once (a fleet may share one), with the certificates documents name."""
    wanted: dict[tuple[str, str], set[str]] = {}
    for doc in documents:
        key = _vault_spec(doc)
        if key is not None:
            wanted.setdefault((_sub(doc), key.name.lower()), set()).add(key.certificate.lower())
    vaults = {k: f.result() for k, f in found.items()}
    reads: dict[tuple[str, str, str], Future[LiveCertificate]] = {}
    for k, vault in vaults.items():
        if vault is not None and vault.vault_uri:
            for name in sorted(wanted.get(k, ())):
                reads[(*k, name)] = pool.submit(keyvault.read_certificate, session, vault, name)
    result: dict[tuple[str, str], LiveKeyVaultData | None] = {}
    for k, vault in vaults.items():
        if vault is None:
            result[k] = None
            continue
        assignments = snapshots[k[0]].role_assignments
        result[k] = LiveKeyVaultData(
            vault=vault,
            role_assignments=tuple(a for a in assignments if arm.applies_to(a, vault.id)),
            certificates={c: f.result() for (s, v, c), f in reads.items() if (s, v) == k},
        )
    return result


def _start(
    pool: ThreadPoolExecutor,
    documents: Sequence[SpecDocument],
    session: AzureSession,
    graph: GraphClient,
    read_caller: bool,
) -> _Pending:
    pending = _Pending()
    for sub in sorted({_sub(d) for d in documents}):
        pending.snapshots[sub] = {
            "groups": pool.submit(arm.list_resource_groups, session, sub),
            "registries": pool.submit(arm.list_registries, session, sub),
            "assignments": pool.submit(arm.list_role_assignments, session, sub),
        }
    for key, (ref, principal_type) in principal_refs(documents).items():
        pending.principals[key] = pool.submit(resolve, graph, ref, principal_type)
    if read_caller:
        pending.caller = pool.submit(caller_object_id, session.credential, session.cloud)
        pending.caller_type = pool.submit(caller_principal_type, session.credential, session.cloud)
    for doc in documents:
        vault = _vault_spec(doc)
        if vault is None:
            continue
        vault_key = (_sub(doc), vault.name.lower())
        if vault_key not in pending.vaults:
            pending.vaults[vault_key] = pool.submit(
                keyvault.find_vault, session, vault_key[0], vault.name
            )
    return pending


def _snapshot(sub: str, futures: dict[str, Future[Any]]) -> arm.SubscriptionSnapshot:
    return arm.SubscriptionSnapshot(
        subscription_id=sub,
        resource_groups=futures["groups"].result(),
        registries=futures["registries"].result(),
        role_assignments=futures["assignments"].result(),
    )


def _registries(
    documents: Sequence[SpecDocument], snapshots: dict[str, arm.SubscriptionSnapshot]
) -> dict[tuple[str, str], LiveRegistryData | None]:
    found: dict[tuple[str, str], LiveRegistryData | None] = {}
    for doc in documents:
        snapshot = snapshots[_sub(doc)]
        registry = snapshot.registries.get(doc.spec.registry.name.lower())
        key = (_sub(doc), doc.spec.registry.name.lower())
        if registry is None:
            found[key] = None
            continue
        applying = tuple(a for a in snapshot.role_assignments if arm.applies_to(a, registry.id))
        found[key] = LiveRegistryData(registry=registry, role_assignments=applying)
    return found


def _name_checks(
    pool: ThreadPoolExecutor,
    session: AzureSession,
    registries: dict[tuple[str, str], LiveRegistryData | None],
) -> dict[str, NameAvailability]:
    missing = {key[1]: key[0] for key, data in registries.items() if data is None}
    futures = {
        name: pool.submit(arm.check_name, session, sub, name) for name, sub in missing.items()
    }
    return {name: future.result() for name, future in futures.items()}


def _taken_meanwhile(
    pool: ThreadPoolExecutor,
    session: AzureSession,
    documents: Sequence[SpecDocument],
    snapshots: dict[str, arm.SubscriptionSnapshot],
    registries: dict[tuple[str, str], LiveRegistryData | None],
    availability: dict[str, NameAvailability],
) -> tuple[dict[tuple[str, str], LiveRegistryData | None], dict[str, NameAvailability]]:
    """A name absent from the list but taken at the name check may have been taken by a
    concurrent run of this spec, in this very resource group: then the registry is there
    to update, not a name conflict. One GET per such name, which is rare."""
    futures: dict[tuple[str, str], Future[LiveRegistry | None]] = {}
    for doc in documents:
        key = (_sub(doc), doc.spec.registry.name.lower())
        checked = availability.get(key[1])
        if registries.get(key) is None and checked is not None and not checked.available:
            group, name = doc.spec.resource_group.name, doc.spec.registry.name
            futures[key] = pool.submit(arm.get_registry, session, key[0], group, name)
    found, names = dict(registries), dict(availability)
    for key, future in futures.items():
        registry = future.result()
        if registry is not None:
            assignments = snapshots[key[0]].role_assignments
            applying = tuple(a for a in assignments if arm.applies_to(a, registry.id))
            found[key] = LiveRegistryData(registry=registry, role_assignments=applying)
            names.pop(key[1], None)
    return found, names


def _with_images(
    pool: ThreadPoolExecutor,
    documents: Sequence[SpecDocument],
    registries: dict[tuple[str, str], LiveRegistryData | None],
    images: ImageReader | None,
) -> dict[tuple[str, str], LiveRegistryData | None]:
    if images is None:
        return registries
    futures: dict[tuple[str, str], Future[ImageFacts]] = {}
    for doc in documents:
        key = (_sub(doc), doc.spec.registry.name.lower())
        data = registries.get(key)
        if data is not None and doc.spec.images and data.registry.login_server:
            futures[key] = pool.submit(images, data.registry, doc.spec.images)
    updated = dict(registries)
    for key, future in futures.items():
        tags, repositories = future.result()
        data = registries[key]
        assert data is not None
        updated[key] = LiveRegistryData(
            registry=data.registry,
            role_assignments=data.role_assignments,
            tags=tags,
            repositories=repositories,
        )
    return updated


def _vault_certificate(
    doc: SpecDocument, vaults: dict[tuple[str, str], LiveKeyVaultData | None]
) -> LiveCertificate | None:
    key = _vault_spec(doc)
    if key is None:
        return None
    data = vaults.get((_sub(doc), key.name.lower()))
    return data.certificates.get(key.certificate.lower()) if data is not None else None


def carried_subjects(data: LiveRegistryData) -> dict[tuple[str, str], Descriptor | None]:
    """(repository, digest) -> the manifest of each digest a migration carries, from the
    DCT reading or, once trust is disabled, its inventory file (None: the registry no
    longer has that manifest)."""
    found: dict[tuple[str, str], Descriptor | None] = {}
    if data.dct is not None:
        for entry in dct_inventory(data.dct).entries:
            media = data.dct.media_types.get((entry.repository, entry.digest))
            found[(entry.repository, entry.digest)] = (
                Descriptor(media, entry.digest, entry.size) if media else None
            )
    elif data.dct_file is not None:
        for entry in data.dct_file.inventory.entries:
            media = data.dct_file.media_types.get((entry.repository, entry.digest))
            found[(entry.repository, entry.digest)] = (
                Descriptor(media, entry.digest, entry.size) if media else None
            )
    return found


def _document_signatures(
    doc: SpecDocument, data: LiveRegistryData, policy: VerificationPolicy, clients: RegistryClients
) -> LiveRegistryData:
    """Every declared tag's signatures judged under the document's policy, and in a
    migration those of every digest it carries (a digest read for a tag is not read again)."""
    client = clients(data.registry.login_server)
    now = datetime.now(UTC)
    tags = dict(data.tags)
    subjects = {
        key: Descriptor(tag.media_type, tag.digest, tag.size)
        for key, tag in data.tags.items()
        if tag.digest is not None and tag.size is not None and tag.media_type is not None
    }
    found = read_all(
        lambda key: read_signatures(client, data.tags[key].repository, subjects[key], policy, now),
        subjects,
        "signatures",
    )
    api: bool | None = None
    read: dict[tuple[str, str], tuple[LiveNotationSignature, ...]] = {}
    for key, (signatures, listed_api) in zip(subjects, found, strict=True):
        tags[key] = replace(data.tags[key], signatures=signatures)
        read[(data.tags[key].repository, subjects[key].digest)] = signatures
        api = listed_api
    subjects_carried = {k: m for k, m in sorted(carried_subjects(data).items()) if m is not None}
    unread = [(k, m) for k, m in subjects_carried.items() if k not in read]
    more = read_all(
        lambda item: read_signatures(client, item[0][0], item[1], policy, now),
        unread,
        "signatures",
    )
    for (key, _), (signatures, listed_api) in zip(unread, more, strict=True):
        read[key] = signatures
        api = listed_api
    carried = {key: read[key] for key in subjects_carried}
    if api is None:
        api = not data.registry.encryption_enabled  # no tag to ask about: ACR's rule
    return replace(data, tags=tags, notation_read=True, referrers_api=api, carried=carried)


def _with_notation(
    pool: ThreadPoolExecutor,
    documents: Sequence[SpecDocument],
    registries: dict[tuple[str, str], LiveRegistryData | None],
    vaults: dict[tuple[str, str], LiveKeyVaultData | None],
    clients: RegistryClients,
) -> dict[tuple[str, str], LiveRegistryData | None]:
    """Signatures of notation documents; without a policy (a certificate file that
    cannot be read, a bad trust store) they stay unread and the plan says so. A vault
    certificate the identity planning may not read (403) does not stop them: they are
    judged by subject (``VerificationPolicy.by_subject``) and the plan warns."""
    futures: dict[tuple[str, str], Future[LiveRegistryData]] = {}
    for doc in documents:
        key = (_sub(doc), doc.spec.registry.name.lower())
        data = registries.get(key)
        if doc.spec.notation is None or data is None or not data.registry.login_server:
            continue
        policy = document_verification_policy(doc, _vault_certificate(doc, vaults))
        if isinstance(policy, str):
            registries = {**registries, key: replace(data, notation_problem=policy)}
            continue
        if policy.by_subject:  # read all the same, judged by subject; the plan says so
            certificate = _vault_certificate(doc, vaults)
            why = certificate.problem if certificate is not None else None
            data = replace(data, notation_problem=f"the signing certificate was not read ({why})")
        futures[key] = pool.submit(_document_signatures, doc, data, policy, clients)
    updated = dict(registries)
    for key, future in futures.items():
        updated[key] = future.result()
    return updated


def migrates_from_dct(doc: SpecDocument, data: LiveRegistryData | None) -> bool:
    """Live trust on, the document asks it off and carries a notation block: a migration,
    whose plan needs the registry's whole DCT inventory."""
    return (
        data is not None
        and data.registry.trust_status == "enabled"
        and doc.spec.registry.content_trust.value == "disabled"
        and doc.spec.notation is not None
    )


def continues_migration(doc: SpecDocument, data: LiveRegistryData | None) -> bool:
    """Trust is off already and the document signs with Notation: a migration may have
    disabled it, whose inventory file (if there is one) says what is left to carry over."""
    notation = doc.spec.notation
    return (
        data is not None
        and data.registry.trust_status != "enabled"
        and doc.spec.registry.content_trust.value == "disabled"
        and notation is not None
        and notation.signing_key is not None
        and bool(data.registry.login_server)
    )


def _with_dct(
    pool: ThreadPoolExecutor,
    documents: Sequence[SpecDocument],
    registries: dict[tuple[str, str], LiveRegistryData | None],
    dct: DctReader | None,
    dct_file: DctFileReader | None,
) -> dict[tuple[str, str], LiveRegistryData | None]:
    """DCT read while it exists; once trust is disabled, the migration's inventory file."""
    futures: dict[tuple[str, str], Future[DctReading]] = {}
    files: dict[tuple[str, str], Future[DctEvidence | None]] = {}
    for doc in documents:
        key = (_sub(doc), doc.spec.registry.name.lower())
        data = registries.get(key)
        if data is None or key in futures or key in files:
            continue
        if dct is not None and migrates_from_dct(doc, data):
            futures[key] = pool.submit(dct, data.registry)
        elif dct_file is not None and continues_migration(doc, data):
            files[key] = pool.submit(dct_file, data.registry)
    updated = dict(registries)
    for key, future in futures.items():
        data = registries[key]
        assert data is not None
        updated[key] = replace(data, dct=future.result())
    for key, evidence in files.items():
        data = registries[key]
        assert data is not None
        updated[key] = replace(data, dct_file=evidence.result())
    return updated
