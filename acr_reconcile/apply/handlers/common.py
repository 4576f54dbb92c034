"""Helpers the handlers share: reading a change's parameters and "absent" reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from acr_reconcile.plan.model import Change

T = TypeVar("T")


def param(change: Change, name: str, default: Any = None) -> Any:
    """A parameter the planner put on the change (or, failing that, its ``after`` value)."""
    if name in change.params:
        return change.params[name]
    if change.after and name in change.after:
        return change.after[name]
    return default


def id_part(resource_id: str, segment: str) -> str:
    """The value after ``segment`` (case-insensitive) in an ARM id, e.g. resourceGroups."""
    parts = resource_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    index = lowered.index(segment.lower())
    return parts[index + 1]


def registry_coordinates(change: Change) -> tuple[str, str, str]:
    """(subscription, resource group, registry) of a registry-scoped change."""
    rid = change.resource_id
    sub = param(change, "subscription_id") or id_part(rid, "subscriptions")
    group = param(change, "resource_group") or id_part(rid, "resourceGroups")
    name = param(change, "registry") or id_part(rid, "registries")
    return str(sub), str(group), str(name)


def or_none(read: Callable[[], T]) -> T | None:
    """``read()``, or None when the resource does not exist (404)."""
    from azure.core.exceptions import ResourceNotFoundError

    try:
        return read()
    except ResourceNotFoundError:
        return None
