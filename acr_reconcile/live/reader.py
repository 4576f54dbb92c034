"""Assemble the LiveState one plan needs, with as few calls as a fleet allows.

Per subscription: three paged lists (resource groups, registries, role assignments).
Per distinct principal reference: one Graph lookup. Per registry not found: one name
check (registry names are global). Per registry with images: its data plane. The
independent reads run concurrently on a bounded thread pool; each is I/O bound.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from acr_reconcile.azure.clients import AzureSession
from acr_reconcile.azure.credentials import caller_object_id
from acr_reconcile.azure.graph import GraphClient
from acr_reconcile.live import arm
from acr_reconcile.live.graph import principal_refs, resolve
from acr_reconcile.live.state import (
    LiveRegistry,
    LiveRegistryData,
    LiveRepositoryTrust,
    LiveState,
    LiveTag,
    NameAvailability,
    PrincipalResolution,
    SigningReadiness,
)
from acr_reconcile.spec.document import SpecDocument
from acr_reconcile.spec.models import ImageSpec

T = TypeVar("T")
ImageFacts = tuple[dict[tuple[str, str], LiveTag], dict[str, LiveRepositoryTrust]]
# reads one registry's data plane for the images a spec declares
ImageReader = Callable[[LiveRegistry, Sequence[ImageSpec]], ImageFacts]

DEFAULT_PARALLELISM = 8


@dataclass
class _Pending:
    snapshots: dict[str, dict[str, Future[Any]]] = field(default_factory=dict)
    principals: dict[tuple[str, str], Future[PrincipalResolution]] = field(default_factory=dict)
    caller: Future[str | None] | None = None


def read_live(
    documents: Sequence[SpecDocument],
    session: AzureSession,
    graph: GraphClient,
    *,
    parallelism: int = DEFAULT_PARALLELISM,
    images: ImageReader | None = None,
    signing: SigningReadiness | None = None,
    read_caller: bool = True,
) -> LiveState:
    """Everything ``documents`` depend on, read from Azure (and registry data planes)."""
    with ThreadPoolExecutor(max_workers=max(1, parallelism), thread_name_prefix="read") as pool:
        pending = _start(pool, documents, session, graph, read_caller)
        snapshots = {sub: _snapshot(sub, futures) for sub, futures in pending.snapshots.items()}
        principals = {key: f.result() for key, f in pending.principals.items()}
        caller = pending.caller.result() if pending.caller else None
        registries = _registries(documents, snapshots)
        availability = _name_checks(pool, session, registries)
        registries, availability = _taken_meanwhile(
            pool, session, documents, snapshots, registries, availability
        )
        registries = _with_images(pool, documents, registries, images)
    return LiveState(
        resource_groups={
            key: snapshots[key[0]].resource_groups.get(key[1]) for key in _rg_keys(documents)
        },
        registries=registries,
        principals=principals,
        name_availability=availability,
        caller_object_id=caller,
        signing=signing,
    )


def _sub(doc: SpecDocument) -> str:
    return doc.spec.subscription_id.lower()


def _rg_keys(documents: Sequence[SpecDocument]) -> list[tuple[str, str]]:
    return [(_sub(d), d.spec.resource_group.name.lower()) for d in documents]


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
