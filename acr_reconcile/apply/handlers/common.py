"""Helpers the handlers share: where a registry-scoped change acts, and "absent" reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

T = TypeVar("T")


class RegistryScoped(Protocol):
    """The parameters every registry-scoped change carries (see plan/model.py)."""

    @property
    def subscription_id(self) -> str: ...
    @property
    def resource_group(self) -> str: ...
    @property
    def registry(self) -> str: ...


def registry_coordinates(params: RegistryScoped) -> tuple[str, str, str]:
    """(subscription, resource group, registry) the ARM registry clients take."""
    return params.subscription_id, params.resource_group, params.registry


def or_none(read: Callable[[], T]) -> T | None:
    """``read()``, or None when the resource does not exist (404)."""
    from azure.core.exceptions import ResourceNotFoundError

    try:
        return read()
    except ResourceNotFoundError:
        return None
