"""A really full file system for write-failure tests: a small tmpfs mounted for the test
and filled to the last block, so writes fail with ENOSPC as on a full disk.

Mounting needs root (CI runs as root); without it the test fails, loudly, instead of
being skipped: a write-failure test that does not run proves nothing.
"""

from __future__ import annotations

import errno
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

SIZE = "256k"


@contextmanager
def full_tmpfs(
    where: Path, keep: dict[str, bytes] | None = None, trees: dict[str, Path] | None = None
) -> Iterator[Path]:
    """A mounted tmpfs at ``where`` holding ``keep`` (name -> bytes) and copies of
    ``trees`` (name -> directory), then filled."""
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE},mode=0700", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs for the full-disk test (needs root): {mounted.stderr}")
    try:
        for name, data in (keep or {}).items():
            (where / name).write_bytes(data)
        for name, tree in (trees or {}).items():
            shutil.copytree(tree, where / name, symlinks=True)
        _fill(where / ".filler")
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False, capture_output=True)


def _fill(path: Path) -> None:
    with path.open("wb", buffering=0) as out:
        block = b"\0" * 4096
        try:
            while True:
                out.write(block)
        except OSError as error:
            if error.errno != errno.ENOSPC:
                raise
    try:  # the last partial block too
        with path.open("ab", buffering=0) as out:
            while True:
                out.write(b"\0")
    except OSError as error:
        if error.errno != errno.ENOSPC:
            raise
