"""One authenticated data-plane request, as the keys, secrets and certificates handlers
see it: the vault, its content, the caller, and the plane's checks on it.

Apart from ``plane.py`` so that the handlers import this and the plane imports them (its
routes): the plane is reached through :class:`Gate`, never imported from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web

from acr_sandbox.keyvault.content import VaultContent
from acr_sandbox.keyvault.workers import KeyWorkers

CALL_KEY = "acr_sandbox.keyvault.call"


class Gate(Protocol):
    """What a call needs of the plane that admitted it."""

    workers: KeyWorkers

    def authorize(self, call: Call, action: str, permission: tuple[str, str]) -> None: ...

    def spend(self, call: Call, bucket: str, weight: float) -> None: ...


@dataclass
class Call:
    """One authenticated data-plane request: the vault, its content, the caller."""

    plane: Gate
    vault: dict[str, Any]  # the vault's ARM entry ({"body", "contentId"})
    content: VaultContent
    claims: dict[str, Any]
    base: str  # https://<vault>.vault.localhost:<port>, as the client addressed it

    @property
    def name(self) -> str:
        return str(self.vault["body"]["name"])

    @property
    def properties(self) -> dict[str, Any]:
        props: dict[str, Any] = self.vault["body"]["properties"]
        return props

    def object_id(self, kind: str, name: str, version: str) -> str:
        return f"{self.base}/{kind}/{name}/{version}"

    def authorize(self, action: str, permission: tuple[str, str]) -> None:
        """403 unless the caller may do ``action`` (RBAC) / ``permission`` (access policy)."""
        self.plane.authorize(self, action, permission)

    def spend(self, bucket: str, weight: float = 1.0) -> None:
        self.plane.spend(self, bucket, weight)

    @property
    def workers(self) -> KeyWorkers:
        return self.plane.workers

    def attributes(self, record: dict[str, Any]) -> dict[str, Any]:
        """An object's attributes as Key Vault answers them: the stored ones plus the
        vault's recovery level (soft delete, purge protection) and its days."""
        answer = dict(record["attributes"])
        props = self.properties
        if props.get("enableSoftDelete", True):
            protected = props.get("enablePurgeProtection", False)
            answer["recoverableDays"] = int(props.get("softDeleteRetentionInDays", 90))
            answer["recoveryLevel"] = "Recoverable" if protected else "Recoverable+Purgeable"
        else:
            answer["recoveryLevel"] = "Purgeable"
        return answer

    def save(self) -> None:
        self.content.save()


def call_of(request: web.Request) -> Call:
    call = request[CALL_KEY]
    assert isinstance(call, Call)
    return call
