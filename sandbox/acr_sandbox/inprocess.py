"""The sandbox served from a thread of the calling process, for fast tests.

Exactly the daemon's server (:func:`acr_sandbox.daemon.run`: the same application, HTTPS
listener on 127.0.0.1, data plane with its real docker-registry and notary-server
children), on an event loop of its own in a background thread. Clients see no
difference: they reach it over HTTPS with the state dir's CA bundle and ``sandbox env``
variables, so real SDK clients and credentials run unchanged; only the process start
and the interpreter start-up of the daemon are saved, and nothing outlives the caller.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from types import TracebackType

from acr_sandbox.errors import SandboxError

START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


class InProcessSandbox:
    """``with InProcessSandbox(state_dir) as served:`` serves until the block ends."""

    def __init__(self, state_dir: Path, *, port: int | None = None, dct: str = "legacy") -> None:
        self.state_dir = state_dir
        self._port = port
        self._dct = dct
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, name="sandbox", daemon=True)

    def start(self) -> InProcessSandbox:
        self._thread.start()
        self._ready.wait(START_TIMEOUT)
        if self._failure is not None:
            raise SandboxError(f"the sandbox did not start: {self._failure}") from self._failure
        if not self._ready.is_set():
            self.stop()
            raise SandboxError(f"the sandbox did not answer within {START_TIMEOUT:.0f}s")
        return self

    def stop(self) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stop.set)
        self._thread.join(STOP_TIMEOUT)

    def __enter__(self) -> InProcessSandbox:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def _serve(self) -> None:
        from acr_sandbox.daemon import run

        # asyncio.Runner, as asyncio.run: on the way out it cancels what is left and shuts
        # the loop's generators and executor down, so no socket outlives the server
        with asyncio.Runner() as runner:
            self._loop = runner.get_loop()
            try:
                self._stop = asyncio.Event()
                runner.run(run(self.state_dir, self._port, self._dct, self._stop, self._ready.set))
            except BaseException as error:  # reported to the starting thread
                self._failure = error
            finally:
                self._ready.set()  # never leave start() waiting on a server that died
