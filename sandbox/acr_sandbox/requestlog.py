"""The request log tests and benchmarks read: one entry per request, also as JSONL.

Entries stay in memory (bounded) for ``GET /_sandbox/requests`` and are appended to
``requests.jsonl`` in the state dir by a background task, so logging never blocks a
handler on disk I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from pathlib import Path
from typing import Any

MAX_ENTRIES = 50_000
FLUSH_SECONDS = 0.5


class RequestLog:
    def __init__(self, path: Path | None) -> None:
        self.entries: deque[dict[str, Any]] = deque(maxlen=MAX_ENTRIES)
        self._path = path
        self._pending: list[str] = []
        self._task: asyncio.Task[None] | None = None

    def add(self, entry: dict[str, Any]) -> None:
        self.entries.append(entry)
        if self._path is not None:
            self._pending.append(json.dumps(entry, separators=(",", ":")))

    def clear(self) -> None:
        self.entries.clear()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._flush_sync(self._take())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            lines = self._take()
            if lines:
                await loop.run_in_executor(None, self._flush_sync, lines)

    def _take(self) -> list[str]:
        lines, self._pending = self._pending, []
        return lines

    def _flush_sync(self, lines: list[str]) -> None:
        if self._path is None or not lines:
            return
        with self._path.open("a") as handle:
            handle.write("\n".join(lines) + "\n")
