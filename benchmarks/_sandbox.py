"""A private sandbox (own state dir, free port, legacy DCT rules) for one benchmark run,
and a scratch directory beside it; both gone afterwards."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def run_on_private_sandbox(prefix: str, body: Callable[[Any, Path], None]) -> None:
    from acr_sandbox.testing import SandboxHandle

    with (
        tempfile.TemporaryDirectory(prefix=f"{prefix}-sandbox-") as state,
        tempfile.TemporaryDirectory(prefix=f"{prefix}-work-") as work,
    ):
        handle = SandboxHandle.start(Path(state), dct="legacy")
        try:
            body(handle, Path(work))
        finally:
            handle.stop()
