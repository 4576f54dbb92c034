"""The real docker-registry and notary-server behind one loginServer, started on demand.

A fleet of sandbox registries would otherwise cost two Go processes each, so the pair
starts on the registry's first data-plane request, and that request waits for both to
answer (a cold start never fails it). Both bind 127.0.0.1 on free ports with CA-issued
TLS, and run token auth whose realm is the loginServer's ``/oauth2/token``.

notary-server keeps trust data in MariaDB and its server-held keys in notary-signer
(see ``truststore``), so it survives restarts; the Docker Hub stand-in's notary-server,
which holds no trust data, keeps the in-memory defaults. Registry content is on disk
under the registry's directory.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from acr_sandbox.certs import write_private
from acr_sandbox.dataplane.tokens import ISSUER
from acr_sandbox.errors import SandboxError

REGISTRY_BINARY = "docker-registry"
NOTARY_BINARY = "notary-server"
DEBIAN_PACKAGE = {REGISTRY_BINARY: "docker-registry", NOTARY_BINARY: "notary"}
START_TIMEOUT = 20.0


@dataclass(frozen=True)
class BackendFiles:
    """Shared files every backend pair uses (absolute paths)."""

    tls_cert: Path
    tls_key: Path
    token_roots: Path  # the CA: verifies the x5c chain of our tokens


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _binary(name: str) -> str:
    path = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
    if path is None:
        raise SandboxError(
            f"{name} is not installed: install the Debian package '{DEBIAN_PACKAGE[name]}'"
        )
    return path


def _die_with_parent() -> None:
    """Children get SIGTERM when the sandbox daemon dies, so none outlive a crash."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def registry_config(
    root: Path, files: BackendFiles, port: int, login_server: str, host: str
) -> str:
    auth = {
        "realm": f"https://{login_server}/oauth2/token",
        "service": login_server,
        "issuer": ISSUER,
        "rootcertbundle": str(files.token_roots),
    }
    config = {
        "version": "0.1",
        "log": {"level": "info", "formatter": "text"},
        "storage": {
            "filesystem": {"rootdirectory": str(root / "registry")},
            "delete": {"enabled": True},
            "maintenance": {"uploadpurging": {"enabled": False}},
        },
        "http": {
            "addr": f"{host}:{port}",
            "secret": secrets.token_hex(16),
            "tls": {"certificate": str(files.tls_cert), "key": str(files.tls_key)},
        },
        "auth": {"token": auth},
    }
    return json.dumps(config, indent=2)  # JSON is YAML, and needs no extra dependency


def notary_config(
    files: BackendFiles,
    port: int,
    login_server: str,
    host: str,
    durable: dict[str, object] | None = None,
) -> str:
    """``durable``: the ``storage``/``trust_service`` blocks that keep trust data across
    restarts (see ``truststore``); without them trust data lives in memory."""
    config: dict[str, object] = {
        "server": {
            "http_addr": f"{host}:{port}",
            "tls_cert_file": str(files.tls_cert),
            "tls_key_file": str(files.tls_key),
        },
        "trust_service": {"type": "local"},
        "storage": {"backend": "memory"},
        "logging": {"level": "info"},
        "repositories": {"gun_prefixes": [f"{login_server}/"]},
        "auth": {
            "type": "token",
            "options": {
                "realm": f"https://{login_server}/oauth2/token",
                "service": login_server,
                "issuer": ISSUER,
                "rootcertbundle": str(files.token_roots),  # absolute: notary reads it from cwd
            },
        },
    }
    config.update(durable or {})
    return json.dumps(config, indent=2)


class BackendProcess:
    """One supervised server process with a health URL."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        log_path: Path,
        port: int,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.port = port
        self._argv = argv
        self._log_path = log_path
        self._env = env  # added to the daemon's environment (a passphrase: never logged)
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    async def start(self) -> None:
        with self._log_path.open("ab") as log:
            self._proc = await asyncio.create_subprocess_exec(
                *self._argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                cwd=str(self._log_path.parent),
                env={**os.environ, **self._env} if self._env else None,
                preexec_fn=_die_with_parent,
            )

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except TimeoutError:
            proc.kill()
            await proc.wait()

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self._log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return " | ".join(text[-lines:])


async def wait_listening(
    proc: BackendProcess, host: str, ca: ssl.SSLContext, timeout: float = START_TIMEOUT
) -> None:
    """Ready means a TLS handshake succeeds; a process that exits first is a start failure."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.running:
            raise SandboxError(f"{proc.name} exited at start: {proc.log_tail()}")
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(host, proc.port, ssl=ca, server_hostname=host), 2
            )
            writer.close()
            await writer.wait_closed()
            return
        except (OSError, TimeoutError, ssl.SSLError):
            await asyncio.sleep(0.05)
    raise SandboxError(f"{proc.name} did not answer on {host}:{proc.port} within {timeout:.0f}s")


class BackendPair:
    """docker-registry + notary-server for one registry."""

    def __init__(
        self,
        root: Path,
        files: BackendFiles,
        login_server: str,
        host: str,
        durable: Callable[[], Awaitable[dict[str, object]]] | None = None,
    ) -> None:
        self.root = root
        self._durable = durable  # notary-server's durable storage, set up before each start
        self._files = files
        self._login_server = login_server
        self._host = host
        self._lock = asyncio.Lock()
        self.registry: BackendProcess | None = None
        self.notary: BackendProcess | None = None

    def is_started(self) -> bool:
        return (
            self.registry is not None
            and self.registry.running
            and bool(self.notary and self.notary.running)
        )

    async def ensure_started(self, ca: ssl.SSLContext) -> None:
        if self.is_started():
            return
        async with self._lock:
            if self.is_started():
                return
            await self._stop_processes()
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            durable = await self._durable() if self._durable is not None else None
            self.registry = self._process(REGISTRY_BINARY, "registry.json")
            self.notary = self._process(NOTARY_BINARY, "notary-server.json", durable)
            await self.registry.start()
            await self.notary.start()
            try:
                await wait_listening(self.registry, self._host, ca)
                await wait_listening(self.notary, self._host, ca)
            except SandboxError:
                await self._stop_processes()
                raise

    def _process(
        self, binary: str, config_name: str, durable: dict[str, object] | None = None
    ) -> BackendProcess:
        port = free_port(self._host)
        path = self.root / config_name
        if binary == REGISTRY_BINARY:
            text = registry_config(self.root, self._files, port, self._login_server, self._host)
            argv = [_binary(binary), "serve", str(path)]
        else:
            text = notary_config(self._files, port, self._login_server, self._host, durable)
            argv = [_binary(binary), "-config", str(path)]
        write_private(path, text.encode())  # the registry's holds its http.secret
        return BackendProcess(binary, argv, self.root / f"{binary}.log", port)

    async def _stop_processes(self) -> None:
        for proc in (self.registry, self.notary):
            if proc is not None:
                await proc.stop()

    async def stop(self) -> None:
        async with self._lock:
            await self._stop_processes()
