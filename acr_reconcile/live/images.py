"""Registry data plane reads for the images a spec declares: manifests and trust data.

One registry client and one trust client per login server share one ACR token source, so
a registry costs one token exchange, then one manifest HEAD per tag and one verified
trust read per repository. A repository whose trust data fails verification is reported
as invalid, never as merely unsigned.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from acr_reconcile.errors import SigningKeyError, TrustDataInvalid
from acr_reconcile.live.fanout import read_all
from acr_reconcile.live.state import (
    LiveRegistry,
    LiveRepositoryTrust,
    LiveTag,
    SigningReadiness,
    TagTrust,
)
from acr_reconcile.spec.models import ImageSpec

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

    from acr_reconcile.registry.client import ManifestRef, RegistryClient
    from acr_reconcile.trust.service import RepositoryTrust, TrustClient

ImageFacts = tuple[dict[tuple[str, str], LiveTag], dict[str, LiveRepositoryTrust]]
# what one repository's trust read gave: the live view, and the verified data when there is any
_Trust = tuple[LiveRepositoryTrust, "RepositoryTrust | None"]


class DataPlane:
    """Registry and trust clients per login server, made on first use, thread-safe."""

    def __init__(
        self,
        credential: TokenCredential,
        verify: str | bool,
        env: Mapping[str, str] | None = None,
        *,
        entra_scope: str | None = None,
    ):
        from acr_reconcile.registry.acr_auth import AcrTokenSource
        from acr_reconcile.registry.sessions import data_plane_session
        from acr_reconcile.trust.keys import KeyStore, Passphrases, default_trust_dir

        self.env = os.environ if env is None else env
        self.verify = verify
        self._token_session = data_plane_session()
        self.tokens = AcrTokenSource(
            credential, verify=verify, session=self._token_session, entra_scope=entra_scope
        )
        self.trust_dir = default_trust_dir(self.env)
        self.passphrases = Passphrases.from_env(self.env)
        self._keys = KeyStore(self.trust_dir, self.passphrases)
        self._registries: dict[str, RegistryClient] = {}
        self._trust: dict[str, TrustClient] = {}
        self._lock = threading.Lock()

    def registry(self, login_server: str) -> RegistryClient:
        from acr_reconcile.registry.client import RegistryClient

        with self._lock:
            if login_server not in self._registries:
                client = RegistryClient(login_server, self.tokens, self.verify)
                self._registries[login_server] = client
            return self._registries[login_server]

    def trust(self, login_server: str) -> TrustClient:
        from acr_reconcile.trust.service import TrustClient, trust_server_url

        with self._lock:
            if login_server not in self._trust:
                self._trust[login_server] = TrustClient(
                    server_url=trust_server_url(login_server, self.env),
                    token_source=self.tokens.for_registry(login_server),
                    verify=self.verify,
                    trust_dir=self.trust_dir,
                    passphrases=self.passphrases,
                )
            return self._trust[login_server]

    def close(self) -> None:
        """Close every connection this data plane opened (clients without close keep theirs)."""
        with self._lock:
            clients = [*self._registries.values(), *(t.http for t in self._trust.values())]
            self._registries, self._trust = {}, {}
        for client in clients:
            close = getattr(client, "close", None)
            if close is not None:
                close()
        self._token_session.close()

    def readiness(self) -> SigningReadiness:
        """What signing would need, known before apply starts (never the secrets)."""
        roots = sorted(self._keys.root_entries(), key=lambda e: e.key_id)
        first_root = [(roots[0].path, "root")] if roots and self.passphrases.root else []
        return SigningReadiness(
            trust_dir=str(self.trust_dir),
            root_key_available=bool(roots),
            root_passphrase_available=self.passphrases.root is not None,
            repository_passphrase_available=self.passphrases.targets is not None,
            interactive=False,  # passphrases come from the environment, never a prompt
            root_key_problem=self._open_problem(first_root),
            root_key_warning=_unencrypted(roots[0].path)
            if roots and not roots[0].encrypted
            else None,
        )

    def _open_problem(self, keys: Sequence[tuple[Path, str]]) -> str | None:
        """Why a key does not open with the passphrase given, found at plan time rather
        than halfway through apply, after imports already ran. Keys without a passphrase
        are left to the missing-passphrase check."""
        for path, role in keys:
            if self.passphrases.for_role(role) is None:
                continue
            try:
                with self._lock:
                    self._keys.load(path, role)
            except SigningKeyError as error:
                return str(error)
        return None

    def _held_keys(self, gun: str) -> list[tuple[Path, str]]:
        return [(e.path, e.role) for e in self._keys.entries() if e.gun == gun and e.role != "root"]

    def tag_digest(self, login_server: str, repository: str, tag: str) -> str | None:
        found = self.registry(login_server).manifest(repository, tag)
        return str(found.digest) if found is not None else None

    def read(self, registry: LiveRegistry, images: Sequence[ImageSpec]) -> ImageFacts:
        """Manifests of every declared tag; trust data when the registry has trust on."""
        server = registry.login_server
        tags: dict[tuple[str, str], LiveTag] = {}
        repositories: dict[str, LiveRepositoryTrust] = {}
        for repository in dict.fromkeys(image.repository for image in images):
            wanted = dict.fromkeys(t for i in images if i.repository == repository for t in i.tags)
            trust = self._repository_trust(registry, repository)
            repositories[repository] = trust[0]
            manifests = read_all(partial(self.registry(server).manifest, repository), wanted)
            for tag, manifest in zip(wanted, manifests, strict=True):
                tags[(repository, tag)] = tag_state(repository, tag, manifest, trust)
        return tags, repositories

    def _repository_trust(self, registry: LiveRegistry, repository: str) -> _Trust:
        gun = f"{registry.login_server}/{repository}"
        if registry.trust_status != "enabled":
            return LiveRepositoryTrust(repository, gun, exists=False), None
        try:
            found = self.trust(registry.login_server).read(gun)
        except TrustDataInvalid as error:
            return LiveRepositoryTrust(repository, gun, True, valid=False, error=str(error)), None
        live = LiveRepositoryTrust(
            repository=repository,
            gun=gun,
            exists=found.exists,
            root_key_id=found.root_key_id,
            warnings=tuple(found.warnings),
            signable_roles=tuple(found.signable_roles),
            key_problem=self._open_problem(self._held_keys(gun)) if found.exists else None,
        )
        return live, found


def tag_state(repository: str, tag: str, manifest: ManifestRef | None, trust: _Trust) -> LiveTag:
    """What the planner diffs for one tag: a signature for another manifest or size than
    the registry serves (or for a tag it no longer serves) is stale, as docker would
    refuse the pull; trust data that failed verification is invalid, never "unsigned"."""
    live, found = trust
    digest = str(manifest.digest) if manifest is not None else None
    size = int(manifest.size) if manifest is not None else None
    media_type = manifest.media_type if manifest is not None else None
    if not live.valid:
        return LiveTag(repository, tag, digest, size, TagTrust.INVALID, media_type=media_type)
    if found is None or not found.exists:
        return LiveTag(repository, tag, digest, size, TagTrust.NO_TRUST_DATA, media_type=media_type)
    target = found.targets.get(tag)
    if target is None:
        return LiveTag(repository, tag, digest, size, TagTrust.UNSIGNED, media_type=media_type)
    signed = f"sha256:{target.sha256_hex}"
    state = TagTrust.SIGNED if (signed, target.length) == (digest, size) else TagTrust.STALE
    return LiveTag(
        repository, tag, digest, size, state, signed, target.length, target.role, media_type
    )


def _unencrypted(path: Path) -> str:
    return (
        f"the root key {path} is not encrypted: whoever can read the file can sign as the "
        "root of every repository initialised with it; re-create it with a passphrase "
        "(DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE)"
    )
