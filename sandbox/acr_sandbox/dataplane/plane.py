"""The sandbox data plane: one loginServer per registry, on a port kept across restarts.

Ports are persisted in ``state_dir/dataplane/ports.json`` so a registry's loginServer (and
so its GUNs and every client's configuration) stays the same when the daemon restarts.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import ssl
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web

from acr_sandbox.contracts import (
    DataPlaneConfig,
    Directory,
    PartStatus,
    RegistryRecord,
)
from acr_sandbox.dataplane import importer, pki, public
from acr_sandbox.dataplane.access import AccessCheck
from acr_sandbox.dataplane.backends import BackendFiles, BackendPair, free_port
from acr_sandbox.dataplane.metadata import AttributeStore, MetadataApi
from acr_sandbox.dataplane.proxy import ContentViews, LoginServerProxy, build_app
from acr_sandbox.dataplane.referrers import ReferrersIndex
from acr_sandbox.dataplane.service import TokenService
from acr_sandbox.dataplane.storage import RegistryStorage
from acr_sandbox.dataplane.tokens import TokenSigner
from acr_sandbox.dataplane.truststore import TrustStore, database_for
from acr_sandbox.errors import SandboxError


@dataclass
class _Served:
    record: RegistryRecord
    login_server: str
    runner: web.AppRunner
    backends: BackendPair


def _unreserved_port(host: str, reserved: set[int]) -> int:
    """A free port that no other registry holds (one not served again yet keeps its own)."""
    while True:
        port = free_port(host)
        if port not in reserved:
            return port


class SandboxDataPlane:
    def __init__(self, config: DataPlaneConfig) -> None:
        self._config = config
        self._root = Path(config.state_dir).resolve() / "dataplane"
        self._ports_path = self._root / "ports.json"
        self._served: dict[str, _Served] = {}
        self._directory: Directory | None = None
        self._signer: TokenSigner | None = None
        self._files: BackendFiles | None = None
        self._server_ssl: ssl.SSLContext | None = None
        self._client_ssl: ssl.SSLContext | None = None
        self._session: aiohttp.ClientSession | None = None
        self._hub: BackendPair | None = None  # the Docker Hub stand-in, started on first use
        self._hub_locks: dict[str, asyncio.Lock] = {}
        self._trust: TrustStore | None = None  # MariaDB + notary-signer, on first use

    async def start(self, directory: Directory) -> None:
        self._directory = directory
        pki_dir = self._root / "pki"
        tls = pki.issue(
            pki_dir,
            "tls",
            ca_cert=self._config.ca_cert,
            ca_key_path=self._config.ca_key,
            common_name="sandbox data plane",
            server=True,
        )
        signing = pki.issue(
            pki_dir,
            "token-signing",
            ca_cert=self._config.ca_cert,
            ca_key_path=self._config.ca_key,
            common_name="sandbox token service",
            server=False,
        )
        client = pki.issue(
            pki_dir,
            "trust-signer-client",
            ca_cert=self._config.ca_cert,
            ca_key_path=self._config.ca_key,
            common_name="sandbox notary-server",
            server=False,
        )
        roots = pki_dir / "token-roots.pem"
        roots.write_bytes(pki.ca_pem_bytes(self._config.ca_cert))
        self._files = BackendFiles(tls.cert_path, tls.key_path, roots)
        self._trust = TrustStore(
            self._root / "trust", self._files, client.cert_path, client.key_path, self._config.host
        )
        self._signer = TokenSigner(signing.cert_path, signing.key_path)
        self._server_ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._server_ssl.load_cert_chain(tls.cert_path, tls.key_path)
        self._client_ssl = ssl.create_default_context(cadata=roots.read_text())

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=300)
            self._session = aiohttp.ClientSession(timeout=timeout, auto_decompress=False)
        return self._session

    async def stop(self) -> None:
        for key in list(self._served):
            await self._unserve(key)
        if self._hub is not None:
            await self._hub.stop()
            self._hub = None
        if self._trust is not None:
            await self._trust.stop()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _load_ports(self) -> dict[str, int]:
        try:
            data = json.loads(self._ports_path.read_text())
        except (OSError, ValueError):
            return {}
        return {str(k): int(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _save_ports(self, ports: dict[str, int]) -> None:
        self._root.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = self._ports_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(ports, indent=2, sort_keys=True))
        tmp.replace(self._ports_path)

    def _registry_root(self, record: RegistryRecord) -> Path:
        return self._root / record.name.lower()

    async def registry_created(self, registry: RegistryRecord) -> str:
        key = registry.id.lower()
        if key in self._served:
            return self._served[key].login_server
        if self._directory is None or self._signer is None or self._files is None:
            raise SandboxError("the data plane was not started")
        ports = self._load_ports()
        host = self._config.host
        port = ports.get(key) or _unreserved_port(host, set(ports.values()))
        login_server = f"{host}:{port}"
        trust, database = self._trust, database_for(registry.name)
        assert trust is not None

        async def durable() -> dict[str, object]:
            return await trust.notary_settings(database)

        backends = BackendPair(
            self._registry_root(registry), self._files, login_server, host, durable
        )
        assert self._client_ssl is not None
        tokens = TokenService(self._directory, self._signer, registry, login_server)
        views = self._views(registry, login_server)
        proxy = LoginServerProxy(login_server, backends, self._client, self._client_ssl, views)
        app = build_app(tokens, proxy, self._config.faults, self._config.record)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port, ssl_context=self._server_ssl).start()
        except OSError as exc:
            await runner.cleanup()
            raise SandboxError(
                f"registry {registry.name}: cannot serve its loginServer {login_server} ({exc})"
            ) from exc
        ports[key] = port
        self._save_ports(ports)
        self._served[key] = _Served(registry, login_server, runner, backends)
        return login_server

    def _views(self, registry: RegistryRecord, login_server: str) -> ContentViews:
        assert self._signer is not None and self._directory is not None
        directory = self._directory
        root = self._registry_root(registry)
        storage = RegistryStorage(root / "registry")
        referrers = ReferrersIndex(storage)
        access = AccessCheck(self._signer, login_server)
        attributes = AttributeStore(root / "attributes.json")
        metadata = MetadataApi(login_server, storage, attributes, access, referrers.changed)

        def referrers_enabled() -> bool:
            # asked per request: the registry's encryption can change through ARM
            record = directory.registry_for_login_server(login_server)
            return record is None or not record.customer_managed_key

        return ContentViews(metadata, referrers, access, referrers_enabled)

    async def _unserve(self, key: str) -> _Served | None:
        served = self._served.pop(key, None)
        if served is not None:
            await served.runner.cleanup()
            await served.backends.stop()
        return served

    async def registry_deleted(self, registry: RegistryRecord) -> None:
        key = registry.id.lower()
        served = await self._unserve(key)
        shutil.rmtree(self._registry_root(registry), ignore_errors=True)
        if self._trust is not None:
            login_server = served.login_server if served else registry.login_server
            await self._trust.drop(database_for(registry.name), f"{login_server}/")
        ports = self._load_ports()
        if ports.pop(key, None) is not None:
            self._save_ports(ports)

    def _by_login_server(self, login_server: str) -> _Served | None:
        wanted = login_server.lower().removeprefix("https://").rstrip("/")
        return next((s for s in self._served.values() if s.login_server == wanted), None)

    async def import_image(
        self,
        target: RegistryRecord,
        *,
        source_login_server: str | None,
        source_image: str,
        target_tags: list[str],
        force: bool,
    ) -> None:
        served = self._served.get(target.id.lower())
        if served is None or self._signer is None or self._client_ssl is None:
            raise importer.ImportFailed("RegistryNotFound", f"registry {target.name} is not served")
        await served.backends.ensure_started(self._client_ssl)
        dest = importer.internal_endpoint(served.login_server, served.backends, self._signer)
        source = None
        if source_login_server and public.is_public(source_login_server):
            source, source_image = await self._public_source(source_image)
        elif source_login_server:
            own = self._by_login_server(source_login_server)
            if own is not None:
                await own.backends.ensure_started(self._client_ssl)
                source = importer.internal_endpoint(own.login_server, own.backends, self._signer)
            else:
                source = importer.external_endpoint(source_login_server)
        await importer.copy_image(
            self._client(),
            self._client_ssl,
            source=source,
            dest=dest,
            source_image=source_image,
            target_tags=target_tags,
            force=force,
        )

    async def _public_source(self, image: str) -> tuple[importer.Endpoint, str]:
        """The Docker Hub stand-in (see ``public``), holding ``image``; its hub spelling."""
        assert self._files is not None and self._signer is not None
        assert self._client_ssl is not None
        if self._hub is None:
            root = self._root / "public-docker.io"
            self._hub = BackendPair(root, self._files, public.HUB.name, self._config.host)
        await self._hub.ensure_started(self._client_ssl)
        endpoint = importer.internal_endpoint(public.HUB.name, self._hub, self._signer)
        hub = importer._Client(self._client(), self._client_ssl, endpoint)
        # Imports of one new image at once (six target tags, six LROs) would each make
        # it: concurrent pushes of the same blobs and manifest fail with DIGEST_INVALID.
        lock = self._hub_locks.setdefault(image, asyncio.Lock())
        async with lock:
            return endpoint, await public.ensure_image(hub, image)

    def status(self) -> list[PartStatus]:
        parts = [PartStatus("token service", self._signer is not None, "ES256, x5c from the CA")]
        hub = self._hub.registry if self._hub is not None else None
        hub_detail = f"pid {hub.pid}, 127.0.0.1:{hub.port}" if hub is not None else "on demand"
        parts.append(PartStatus("docker.io stand-in", hub is None or hub.running, hub_detail))
        if self._trust is not None:
            trust = self._trust
            started = trust.signer is not None
            parts.append(PartStatus("trust store", trust.running() or not started, trust.detail()))
        for served in sorted(self._served.values(), key=lambda s: s.record.name):
            name = served.record.name
            parts.append(PartStatus(f"registry {name} (loginServer)", True, served.login_server))
            for proc, label in (
                (served.backends.registry, "docker-registry"),
                (served.backends.notary, "notary-server"),
            ):
                if proc is None:
                    parts.append(PartStatus(f"registry {name} ({label})", True, "on demand"))
                elif proc.running:
                    detail = f"pid {proc.pid}, 127.0.0.1:{proc.port}"
                    if label == "notary-server":
                        detail += ", trust data in mariadb"
                    parts.append(PartStatus(f"registry {name} ({label})", True, detail))
                else:
                    parts.append(PartStatus(f"registry {name} ({label})", False, "exited"))
        return parts
