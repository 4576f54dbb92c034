"""Writing files that hold keys, trust data or plans: readable by their owner only, and
replaced atomically, so a crash or a concurrent reader never sees half a file.

A full disk, a quota or a file-size limit must not cost the previous file nor print a
traceback: the data goes to a temporary file in the same directory, is flushed to disk
(so a delayed ``ENOSPC`` shows up here, not after the rename), and only then replaces the
target; any failure removes the temporary file and becomes one :class:`FileWriteError`
naming the file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from acr_reconcile.errors import FileWriteError


def write_private_atomic(path: Path, data: bytes, what: str = "the file") -> None:
    """Write ``data`` to ``path`` (mode 0600) through a temporary file in the same
    directory, renamed over the target; on failure ``path`` is as it was."""
    write_atomic(path, data, what, mode=0o600)


def write_atomic(path: Path, data: bytes, what: str = "the file", *, mode: int) -> None:
    """:func:`write_private_atomic` for files that are not private (an exported spec is
    meant to be committed): the same all-or-nothing replacement, with ``mode``."""
    tmp: str | None = None
    try:
        handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as error:
        raise cannot_write(path, what, error) from None
    finally:
        if tmp is not None and os.path.lexists(tmp):
            Path(tmp).unlink(missing_ok=True)


def make_private_dirs(top: Path, leaf: Path, what: str = "the directory") -> None:
    """``top`` and every directory down to ``leaf``, created 0700 (existing ones kept)."""
    parts = leaf.relative_to(top).parts
    try:
        top.mkdir(mode=0o700, parents=True, exist_ok=True)
        for index in range(len(parts)):
            top.joinpath(*parts[: index + 1]).mkdir(mode=0o700, exist_ok=True)
    except OSError as error:
        raise cannot_write(leaf, what, error) from None


def cannot_write(path: Path, what: str, error: OSError) -> FileWriteError:
    reason = error.strerror or type(error).__name__
    return FileWriteError(
        f"{path}: cannot write {what}: {reason}; any previous version of it is unchanged"
    )


def unsafe_reason(path: Path, what: str) -> str | None:
    """Why ``path`` (an existing file or directory) cannot be trusted to hold private data,
    or None: it must be owned by the user running the tool (or root) and writable by no
    one else, as OpenSSH requires of ``~/.ssh`` and GnuPG of its home. Another local user
    who can write there could plant a key or a pinned root we would then trust."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    except OSError as error:
        return f"{path}: cannot check {what}: {error.strerror}"
    me = os.geteuid()
    if info.st_uid not in (me, 0):
        return (
            f"{path}: {what} belongs to uid {info.st_uid}, not to you (uid {me}); "
            "refusing to use it: another user could have planted its contents"
        )
    if info.st_mode & 0o022:
        mode = oct(info.st_mode & 0o777)[2:]
        return (
            f"{path}: {what} is writable by group or others (mode {mode}); "
            f"refusing to use it: run 'chmod go-w {path}' once you trust what it holds"
        )
    return None
