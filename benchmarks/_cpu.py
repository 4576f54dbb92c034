"""CPU time spent by the benchmark's own process (the client) and by the sandbox's
processes (the daemon and its docker-registry / notary-server children) over a stretch.

Why: these machines are shared, so a wall time says as much about the neighbours as about
the code; CPU seconds per unit of work barely depend on them, and their sum over both
sides, divided by the cores, is the fastest the work can go on this machine.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def cores() -> int:
    return os.cpu_count() or 1


def process_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc); 0 once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return str(pid)


def sandbox_processes(handle: Any) -> dict[str, int]:
    """{name: pid} of the sandbox daemon and its direct children."""
    daemon = int((handle.state_dir / "daemon.pid").read_text())
    found = {"sandbox daemon": daemon}
    for task in Path(f"/proc/{daemon}/task").iterdir():
        for child in (task / "children").read_text().split():
            found[_name(int(child))] = int(child)
    return found


@dataclass
class Split:
    """CPU seconds over one measured stretch, by process."""

    wall: float = 0.0
    client: float = 0.0
    server: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return self.client + sum(self.server.values())

    def floor(self) -> float:
        """Seconds the stretch needs at the least on this machine's cores, all busy."""
        return self.total / cores()

    def describe(self, per: int, unit: str) -> str:
        """e.g. '31.0 ms of CPU per digest: client 12.6, docker-registry 13.0, ...'."""
        parts = [f"client {1000 * self.client / per:.1f}"]
        parts += [
            f"{name} {1000 * seconds / per:.1f}"
            for name, seconds in sorted(self.server.items(), key=lambda kv: -kv[1])
            if seconds * 1000 / per >= 0.05
        ]
        return f"{1000 * self.total / per:.1f} ms of CPU per {unit} ({', '.join(parts)})"


@contextmanager
def measured(handle: Any) -> Iterator[Split]:
    """``with measured(handle) as split:`` fills ``split`` when the block ends."""
    processes = sandbox_processes(handle)
    before = {name: process_seconds(pid) for name, pid in processes.items()}
    client, started = time.process_time(), time.perf_counter()
    split = Split()
    yield split
    split.wall = time.perf_counter() - started
    split.client = time.process_time() - client
    split.server = {name: process_seconds(pid) - before[name] for name, pid in processes.items()}
