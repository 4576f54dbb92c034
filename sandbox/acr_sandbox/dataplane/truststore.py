"""Trust data that survives a restart: MariaDB under notary-server and notary-signer.

notary-server keeps TUF metadata in its storage backend and signs timestamps (and
server-managed snapshots) with keys from its trust service. The Debian build offers no
sqlite3 driver, and its ``local`` trust service holds those keys in memory: after a
restart the stored metadata names timestamp keys nobody has, and every client fails.
Replaying recorded uploads cannot help for the same reason (the new server's keys are
not the ones the clients' root lists). So the sandbox runs what notary's production
setup runs: notary-server with ``mysql`` storage and a ``remote`` trust service, the
real notary-signer, which keeps its keys encrypted in MariaDB too.

One ``mariadbd`` (Debian ``mariadb-server-core``) and one notary-signer serve every
registry of the sandbox, started with the first registry's backends: MariaDB listens
only on a unix socket in the state dir; the signer on 127.0.0.1 with TLS and requires a
client certificate from the sandbox CA. Each registry's trust data is its own database
(``notary_<registry>``), dropped with the registry. Neither notary binary creates SQL
tables (``-bootstrap`` supports only RethinkDB), so the tables are created here from
the columns their models declare. The signer's key passphrase is random, made once and
kept in the state dir (0600) beside the keys it protects.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import secrets
import shutil
import tempfile
import time
from pathlib import Path

from acr_sandbox.certs import write_private
from acr_sandbox.dataplane.backends import BackendFiles, BackendProcess, free_port
from acr_sandbox.errors import SandboxError

MARIADBD = "/usr/sbin/mariadbd"
INSTALL_DB = "/usr/bin/mariadb-install-db"
CLIENT = "/usr/bin/mariadb"
SIGNER = "/usr/bin/notary-signer"
PACKAGES = {
    MARIADBD: "mariadb-server-core",
    INSTALL_DB: "mariadb-server-core",
    CLIENT: "mariadb-client-core",
    SIGNER: "notary",
}
SIGNER_DATABASE = "notary_signer"
PASSPHRASE_ALIAS = "sandbox"
START_TIMEOUT = 60.0
_MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes
_LOG_SIZE = "--innodb-log-file-size=4M"  # the default 96 MiB redo log per sandbox is waste

_SERVER_TABLES = """
CREATE TABLE IF NOT EXISTS tuf_files (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  created_at DATETIME NULL, updated_at DATETIME NULL, deleted_at DATETIME NULL,
  gun VARCHAR(255) NOT NULL, role VARCHAR(255) NOT NULL, version INT NOT NULL,
  sha256 VARCHAR(64) NULL, data LONGBLOB NOT NULL,
  UNIQUE KEY idx_gun (gun, role, version), KEY idx_tuf_files_deleted_at (deleted_at)
);
CREATE TABLE IF NOT EXISTS changefeed (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, created_at DATETIME NULL,
  gun VARCHAR(255) NOT NULL, version INT NOT NULL, sha256 VARCHAR(64) NULL,
  category VARCHAR(20) NOT NULL, KEY idx_changefeed_gun (gun)
);
"""
_SIGNER_TABLES = """
CREATE TABLE IF NOT EXISTS private_keys (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  created_at DATETIME NULL, updated_at DATETIME NULL, deleted_at DATETIME NULL,
  key_id VARCHAR(255) NOT NULL UNIQUE, encryption_alg VARCHAR(255) NOT NULL,
  keywrap_alg VARCHAR(255) NOT NULL, algorithm VARCHAR(50) NOT NULL,
  passphrase_alias VARCHAR(50) NOT NULL, gun VARCHAR(255) NOT NULL,
  role VARCHAR(255) NOT NULL, public BLOB NOT NULL, private BLOB NOT NULL,
  last_used DATETIME NULL DEFAULT NULL, KEY idx_private_keys_deleted_at (deleted_at)
);
"""


def missing_binaries() -> list[str]:
    return [
        f"{path} (Debian package '{pkg}')"
        for path, pkg in PACKAGES.items()
        if not Path(path).exists()
    ]


def _db_user_flag() -> list[str]:
    """mariadbd refuses to run as root unless told to; any other user runs as itself."""
    return ["--user=root"] if os.geteuid() == 0 else [f"--user={getpass.getuser()}"]


def database_for(registry_name: str) -> str:
    name = registry_name.lower()
    if not name.isalnum():  # registry names are 5-50 alphanumerics (checked by ARM)
        raise SandboxError(f"registry name {registry_name!r} cannot name a trust database")
    return f"notary_{name}"


class TrustStore:
    """The sandbox's MariaDB and notary-signer, started once for all registries."""

    def __init__(
        self, root: Path, files: BackendFiles, client_cert: Path, client_key: Path, host: str
    ) -> None:
        self.root = root
        self._files = files
        self._client_cert, self._client_key = client_cert, client_key
        self._host = host
        self._lock = asyncio.Lock()
        self._db: BackendProcess | None = None
        self.signer: BackendProcess | None = None
        self._socket = self._socket_path()
        self._known: set[str] = set()

    def _socket_path(self) -> Path:
        path = self.root / "mysqld.sock"
        if len(str(path)) <= _MAX_SOCKET_PATH:
            return path
        return Path(tempfile.mkdtemp(prefix="acr-sandbox-db-")) / "mysqld.sock"

    def running(self) -> bool:
        return bool(self._db and self._db.running and self.signer and self.signer.running)

    def detail(self) -> str:
        if self._db is None or self.signer is None:
            return "on demand"
        return f"mariadb pid {self._db.pid}, notary-signer pid {self.signer.pid}"

    async def ensure_started(self) -> None:
        if self.running():
            return
        async with self._lock:
            if self.running():
                return
            missing = missing_binaries()
            if missing:
                raise SandboxError("trust data needs " + ", ".join(missing))
            await self._stop_processes()
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            await self._start_database()
            await self.sql(f"CREATE DATABASE IF NOT EXISTS {SIGNER_DATABASE}", database=None)
            await self.sql(_SIGNER_TABLES, database=SIGNER_DATABASE)
            await self._start_signer()

    async def _start_database(self) -> None:
        data = self.root / "mariadb"
        if not (data / "mysql").is_dir():
            shutil.rmtree(data, ignore_errors=True)
            await _run(
                [
                    INSTALL_DB,
                    "--no-defaults",
                    f"--datadir={data}",
                    *_db_user_flag(),
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                    _LOG_SIZE,
                ],
                self.root / "mariadb-install.log",
            )
        self._socket.unlink(missing_ok=True)
        argv = [
            MARIADBD,
            "--no-defaults",
            f"--datadir={data}",
            f"--socket={self._socket}",
            "--skip-networking",
            *_db_user_flag(),
            "--skip-name-resolve",
            "--innodb-buffer-pool-size=16M",
            _LOG_SIZE,
            "--performance-schema=OFF",
            f"--log-error={self.root / 'mariadb.log'}",
        ]
        self._db = BackendProcess("mariadb", argv, self.root / "mariadb.out", 0)
        await self._db.start()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if not self._db.running:
                raise SandboxError(f"mariadb exited at start: {_tail(self.root / 'mariadb.log')}")
            try:
                _, writer = await asyncio.open_unix_connection(str(self._socket))
                writer.close()
                await writer.wait_closed()
                return
            except OSError:
                await asyncio.sleep(0.1)
        raise SandboxError(f"mariadb did not answer within {START_TIMEOUT:.0f}s")

    def _passphrase(self) -> str:
        path = self.root / "signer.passphrase"
        if not path.exists():
            write_private(path, secrets.token_urlsafe(32).encode())
        return path.read_text().strip()

    async def _start_signer(self) -> None:
        port = free_port(self._host)
        config = {
            "server": {
                "grpc_addr": f"{self._host}:{port}",
                "tls_cert_file": str(self._files.tls_cert),
                "tls_key_file": str(self._files.tls_key),
                "client_ca_file": str(self._files.token_roots),  # the sandbox CA
            },
            "logging": {"level": "info"},
            "storage": {
                "backend": "mysql",
                "db_url": self._dsn(SIGNER_DATABASE),
                "default_alias": PASSPHRASE_ALIAS,
            },
        }
        path = self.root / "notary-signer.json"
        write_private(path, json.dumps(config, indent=2).encode())
        env = {f"NOTARY_SIGNER_{PASSPHRASE_ALIAS.upper()}": self._passphrase()}
        self.signer = BackendProcess(
            "notary-signer",
            [SIGNER, "-config", str(path)],
            self.root / "notary-signer.log",
            port,
            env=env,
        )
        await self.signer.start()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if not self.signer.running:
                raise SandboxError(f"notary-signer exited at start: {self.signer.log_tail()}")
            try:
                _, writer = await asyncio.open_connection(self._host, port)
                writer.close()
                await writer.wait_closed()
                return
            except OSError:
                await asyncio.sleep(0.05)
        raise SandboxError(f"notary-signer did not answer within {START_TIMEOUT:.0f}s")

    def _dsn(self, database: str) -> str:
        return f"root@unix({self._socket})/{database}?parseTime=True"

    async def sql(self, *statements: str, database: str | None) -> None:
        argv = [CLIENT, "--no-defaults", f"--socket={self._socket}", "-uroot"]
        if database:
            argv.append(database)
        script = ";\n".join(s.strip().rstrip(";") for s in statements if s.strip()) + ";\n"
        await _run(argv, self.root / "mariadb-client.log", stdin=script.encode())

    async def notary_settings(self, database: str) -> dict[str, object]:
        """The ``storage`` and ``trust_service`` blocks of a registry's notary-server."""
        await self.ensure_started()
        if database not in self._known:
            await self.sql(f"CREATE DATABASE IF NOT EXISTS {database}", database=None)
            await self.sql(_SERVER_TABLES, database=database)
            self._known.add(database)
        assert self.signer is not None
        return {
            "storage": {"backend": "mysql", "db_url": self._dsn(database)},
            "trust_service": {
                "type": "remote",
                "hostname": self._host,
                "port": str(self.signer.port),
                "tls_ca_file": str(self._files.token_roots),
                "tls_client_cert": str(self._client_cert),
                "tls_client_key": str(self._client_key),
                "key_algorithm": "ecdsa",
            },
        }

    async def drop(self, database: str, gun_prefix: str) -> None:
        """Forget a deleted registry's trust data and the signer's keys for its GUNs."""
        if not (self.root / "mariadb" / "mysql").is_dir():
            return  # never started: nothing was stored
        await self.ensure_started()
        self._known.discard(database)
        prefix = gun_prefix.replace("\\", "\\\\").replace("'", "''").replace("%", "\\%")
        await self.sql(f"DROP DATABASE IF EXISTS {database}", database=None)
        await self.sql(
            f"DELETE FROM private_keys WHERE gun LIKE '{prefix}%'", database=SIGNER_DATABASE
        )

    async def _stop_processes(self) -> None:
        for proc in (self.signer, self._db):
            if proc is not None:
                await proc.stop()

    async def stop(self) -> None:
        async with self._lock:
            await self._stop_processes()


def _tail(path: Path, lines: int = 5) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


async def _run(argv: list[str], log: Path, stdin: bytes | None = None) -> None:
    with log.open("ab") as out:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=out,
        )
        try:
            await asyncio.wait_for(proc.communicate(stdin), START_TIMEOUT)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise SandboxError(
                f"{Path(argv[0]).name} did not finish within {START_TIMEOUT:.0f}s"
            ) from None
    if proc.returncode != 0:
        raise SandboxError(f"{Path(argv[0]).name} failed (exit {proc.returncode}): {_tail(log)}")
