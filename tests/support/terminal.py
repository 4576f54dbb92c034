"""Run the CLI on a real pseudo-terminal of a given size, as a user at a terminal would.

stdout and stderr are the terminal (isatty() is true, the kernel knows its columns);
the output is what the terminal received, with CR LF turned back into LF.
"""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ANSI = "\x1b["


@dataclass(frozen=True)
class TerminalRun:
    code: int
    screen: str

    @property
    def lines(self) -> list[str]:
        return self.screen.splitlines()


def run_on_terminal(
    args: Sequence[str],
    *,
    columns: int,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 120,
    columns_variable: int | None = None,
) -> TerminalRun:
    """``columns``: the terminal's size as the kernel reports it; ``columns_variable``:
    a ``COLUMNS`` the user exported (none unless given, whatever this process has)."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    environment = {k: v for k, v in (env or os.environ).items() if k not in ("COLUMNS", "LINES")}
    if columns_variable is not None:
        environment["COLUMNS"] = str(columns_variable)
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "acr_reconcile", *args],
            stdin=subprocess.DEVNULL,
            stdout=terminal,
            stderr=terminal,
            env=environment,
            cwd=cwd,
        )
        os.close(terminal)
        terminal = -1
        chunks: list[bytes] = []
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the child closed its side
                break
            if not chunk:
                break
            chunks.append(chunk)
        code = process.wait(timeout=timeout)
    finally:
        os.close(controller)
        if terminal >= 0:
            os.close(terminal)
    text = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    return TerminalRun(code, text)
