"""The sandbox daemon: ``python -m acr_sandbox.daemon --state-dir DIR``.

Loads (or seeds) the state, makes sure the CA and server certificate exist, binds the
HTTPS listener on 127.0.0.1 (the port persisted in the state so ``sandbox env`` stays
valid across restarts), starts the data plane and serves until SIGTERM/SIGINT, then stops
the data plane (which stops its child processes) and writes the state one last time.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import ssl
import sys
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from acr_sandbox.app import build_app
from acr_sandbox.certs import ensure_certs
from acr_sandbox.context import Sandbox, load_admin_token
from acr_sandbox.contracts import DataPlaneConfig
from acr_sandbox.directory import SandboxDirectory
from acr_sandbox.faults import FaultInjector
from acr_sandbox.jwt import load_signing_key
from acr_sandbox.keyvault import tls as keyvault_tls
from acr_sandbox.keyvault.plane import plane_of
from acr_sandbox.requestlog import RequestLog
from acr_sandbox.settings import DCT_MODES
from acr_sandbox.state import Store
from acr_sandbox.statedir import secure_state_dir
from acr_sandbox.throttle import Throttle

PID_FILE = "daemon.pid"
log = logging.getLogger("acr_sandbox")


def _listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(512)
    sock.setblocking(False)
    return sock


def _tls(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


async def serve(state_dir: Path, port: int | None, dct: str | None) -> None:
    """The daemon: :func:`run` until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    def serving() -> None:
        (state_dir / PID_FILE).write_text(str(os.getpid()))

    try:
        await run(state_dir, port, dct, stop, serving)
    finally:
        (state_dir / PID_FILE).unlink(missing_ok=True)


async def run(
    state_dir: Path,
    port: int | None,
    dct: str | None,
    stop: asyncio.Event,
    serving: Callable[[], None],
) -> None:
    """Serve the sandbox on the running loop until ``stop`` is set; ``serving()`` is
    called once every part answers. The daemon and the in-process server
    (``acr_sandbox.inprocess``) are both this, so they cannot drift apart."""
    repaired = secure_state_dir(state_dir)
    if repaired:
        log.warning("%s", repaired)
    store = Store.load(state_dir)
    if dct:
        store.settings["dct"] = dct
    paths = ensure_certs(state_dir)
    sock = _listen(port or int(store.data.get("port") or 0))
    bound = int(sock.getsockname()[1])
    store.data["port"] = bound
    store.write()
    from acr_sandbox.dataplane import create_dataplane

    faults = FaultInjector()
    faults.load_file(state_dir)
    requests = RequestLog(state_dir / "requests.jsonl")
    dataplane = create_dataplane(
        DataPlaneConfig(
            state_dir=str(state_dir),
            ca_cert=paths.ca_cert.read_text(),
            ca_key=str(paths.ca_key),
            faults=faults.data_plane_fault,
            record=requests.add,
        )
    )
    sandbox = Sandbox(
        store=store,
        signing_key=load_signing_key(state_dir),
        base_url=f"https://127.0.0.1:{bound}",
        admin_token=load_admin_token(state_dir),
        dataplane=dataplane,
        faults=faults,
        throttle=Throttle(lambda: store.settings["throttle"]),
        requests=requests,
    )
    runner = web.AppRunner(build_app(sandbox), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.SockSite(runner, sock, ssl_context=_tls(paths.server_cert, paths.server_key))
    await site.start()
    store.start()
    sandbox.requests.start()
    try:
        await dataplane.start(SandboxDirectory(sandbox))
        await _restore_registries(sandbox)
        await plane_of(sandbox).start(*keyvault_tls.ensure_cert(state_dir))
        serving()
        log.info("sandbox serving on %s", sandbox.base_url)
        await stop.wait()
    finally:
        log.info("sandbox stopping")
        await _quietly(dataplane.stop())
        await _quietly(plane_of(sandbox).stop())
        await runner.cleanup()
        await sandbox.requests.stop()
        await store.stop()


async def _restore_registries(sandbox: Sandbox) -> None:
    """Registries persisted by an earlier run are served again (same login servers)."""
    from acr_sandbox.directory import registry_record

    for entry in sandbox.store.section("registries").values():
        try:
            login = await sandbox.dataplane.registry_created(registry_record(entry["body"]))
        except Exception:
            log.exception("data plane could not serve %s again", entry["body"]["name"])
            continue
        entry["body"]["properties"]["loginServer"] = login
        if entry["body"]["properties"]["provisioningState"] in ("Creating", "Updating"):
            entry["body"]["properties"]["provisioningState"] = "Succeeded"
    sandbox.store.changed()


async def _quietly(awaitable: object) -> None:
    try:
        await awaitable  # type: ignore[misc]
    except Exception:
        log.exception("data plane stop failed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m acr_sandbox.daemon")
    parser.add_argument("--state-dir", required=True, type=Path)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--dct", choices=DCT_MODES, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        asyncio.run(serve(args.state_dir.resolve(), args.port, args.dct))
    except OSError as error:
        print(f"sandbox: cannot start: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
