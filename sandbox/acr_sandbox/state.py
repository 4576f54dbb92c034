"""The sandbox's persistent world: tenant, subscriptions, principals, resource groups,
registries, role assignments and settings, kept as one JSON document.

Handlers mutate the in-memory document and call :meth:`Store.changed`; a background task
writes it atomically (temp file + rename) at most every few hundred milliseconds, so a
burst of writes costs one disk write and a crash never leaves a half-written file.
Client secrets are stored only as salted hashes; the few secrets the sandbox must hand
out again (the seeded owner's and the walkthrough signer's) live in 0600 files.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from pathlib import Path
from typing import Any

from acr_sandbox.certs import write_private
from acr_sandbox.settings import default_settings

SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
OWNER_NAME = "acr-reconcile-sandbox-owner"
WALKTHROUGH_SIGNER = "DavidServiceAccount"
WALKTHROUGH_SIGNER_APP_ID = "11111111-1111-1111-1111-111111111111"
OWNER_ROLE = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
STATE_FILE = "state.json"
FLUSH_SECONDS = 0.2

Json = dict[str, Any]
log = logging.getLogger(__name__)


def hash_secret(secret: str, salt: str | None = None) -> str:
    salt = salt or secrets.token_hex(8)
    digest = hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()
    return f"{salt}${digest}"


def secret_matches(secret: str, stored: str) -> bool:
    salt, _, _ = stored.partition("$")
    return hmac.compare_digest(hash_secret(secret, salt), stored)


def secret_file(state_dir: Path, display_name: str) -> Path:
    return state_dir / "secrets" / f"{display_name}.secret"


class Store:
    """The JSON document plus its file; one instance per daemon (or CLI command)."""

    def __init__(self, state_dir: Path, data: Json) -> None:
        self.state_dir = state_dir
        self.data = data
        self._dirty = False
        self._task: asyncio.Task[None] | None = None

    # -- persistence -------------------------------------------------------------------
    @classmethod
    def load(cls, state_dir: Path) -> Store:
        path = state_dir / STATE_FILE
        if path.exists():
            return cls(state_dir, json.loads(path.read_text()))
        store = cls(state_dir, _empty_document())
        seed(store)
        store.write()
        return store

    def write(self) -> None:
        self._write_text(json.dumps(self.data, indent=1, sort_keys=True))
        self._dirty = False

    def changed(self) -> None:
        self._dirty = True

    async def run_flusher(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            if self._dirty:
                self._dirty = False
                text = json.dumps(self.data, indent=1, sort_keys=True)
                try:
                    await loop.run_in_executor(None, self._write_text, text)
                except OSError:
                    # keep serving; the next change (or the stop) retries the write
                    log.exception("cannot write %s", self.state_dir / STATE_FILE)
                    self._dirty = True

    def _write_text(self, text: str) -> None:
        # 0600: the document holds principals' secret hashes and the admin settings
        write_private(self.state_dir / STATE_FILE, text.encode())

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run_flusher())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.write()

    # -- views -------------------------------------------------------------------------
    @property
    def tenant_id(self) -> str:
        return str(self.data["tenantId"])

    @property
    def settings(self) -> Json:
        settings: Json = self.data["settings"]
        return settings

    def section(self, name: str) -> dict[str, Json]:
        section: dict[str, Json] = self.data[name]
        return section

    def clear_resources(self) -> None:
        """Drop resource groups, registries and role assignments; keep principals and the
        owner's subscription role so the sandbox stays usable."""
        self.data["resourceGroups"] = {}
        self.data["registries"] = {}
        self.data["keyVaults"] = {}
        self.data["deletedKeyVaults"] = {}
        owner = self.data["owner"]
        seeded = {*owner.get("assignmentKeys", []), owner.get("assignmentKey")}
        keep = {k: v for k, v in self.section("roleAssignments").items() if k in seeded}
        self.data["roleAssignments"] = keep
        self.changed()

    # -- principals --------------------------------------------------------------------
    def add_principal(
        self,
        display_name: str,
        *,
        app_id: str | None = None,
        principal_type: str = "ServicePrincipal",
        with_secret: bool = True,
    ) -> tuple[Json, str | None]:
        """Create a principal; returns its record and its secret (shown once, never stored)."""
        object_id = str(uuid.uuid4())
        secret = secrets.token_urlsafe(30) if with_secret else None
        record: Json = {
            "id": object_id,
            "appId": (app_id or str(uuid.uuid4()))
            if principal_type == "ServicePrincipal"
            else None,
            "displayName": display_name,
            "type": principal_type,
            "createdAt": time.time(),
            "secretHashes": [hash_secret(secret)] if secret else [],
            "federatedCredentials": [],
        }
        self.section("principals")[object_id] = record
        self.changed()
        return record, secret


def _empty_document() -> Json:
    return {
        "version": 1,
        "tenantId": str(uuid.uuid4()),
        "port": None,
        "settings": default_settings(),
        "subscriptions": {},
        "principals": {},
        "resourceGroups": {},
        "registries": {},
        "keyVaults": {},
        "deletedKeyVaults": {},
        "roleAssignments": {},
        "owner": {},
    }


def grant_owner(store: Store, subscription_id: str) -> None:
    """Make the seeded owner Owner of ``subscription_id``; a reset keeps these grants."""
    owner_id = str(store.data["owner"]["objectId"])
    scope = f"/subscriptions/{subscription_id}"
    name = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{scope}|{owner_id}|{OWNER_ROLE}"))
    ra_id = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"
    store.section("roleAssignments")[ra_id.lower()] = {
        "id": ra_id,
        "name": name,
        "type": "Microsoft.Authorization/roleAssignments",
        "properties": {
            "roleDefinitionId": (
                f"{scope}/providers/Microsoft.Authorization/roleDefinitions/{OWNER_ROLE}"
            ),
            "principalId": owner_id,
            "principalType": "ServicePrincipal",
            "scope": scope,
            "createdOn": "2020-01-01T00:00:00.0000000Z",
            "updatedOn": "2020-01-01T00:00:00.0000000Z",
        },
    }
    store.data["owner"].setdefault("assignmentKeys", []).append(ra_id.lower())
    store.changed()


def seed(store: Store) -> None:
    """First-up content: the subscription, its owner principal and the walkthrough signer.

    Seeded principals are backdated past any replication lag: they exist "since before".
    """
    store.section("subscriptions")[SUBSCRIPTION_ID] = {"displayName": "acr-reconcile sandbox"}
    owner, owner_secret = store.add_principal(OWNER_NAME)
    signer, signer_secret = store.add_principal(
        WALKTHROUGH_SIGNER, app_id=WALKTHROUGH_SIGNER_APP_ID
    )
    for record in (owner, signer):
        record["createdAt"] = 0.0
    assert owner_secret and signer_secret
    write_private(secret_file(store.state_dir, OWNER_NAME), owner_secret.encode())
    write_private(secret_file(store.state_dir, WALKTHROUGH_SIGNER), signer_secret.encode())
    store.data["owner"] = {"objectId": owner["id"], "appId": owner["appId"]}
    grant_owner(store, SUBSCRIPTION_ID)
    store.changed()
