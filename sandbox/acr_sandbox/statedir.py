"""The state directory holds the sandbox's CA key, token signing key, client secrets and the
backends' configs (with their ``http.secret``): it must be the user's own and closed to
everyone else, whatever the umask and whoever created it first.

A directory another user owns is refused: its contents may have been planted (a CA key we
would then sign with, secrets we would hand out). One of ours that group or others can
reach is repaired to 0700, with a message saying so, since only its mode was wrong.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from acr_sandbox.errors import SandboxError


def secure_state_dir(state_dir: Path) -> str | None:
    """Create ``state_dir`` 0700, or check an existing one; a message when it was repaired.

    Raises SandboxError when it (or what it is a symlink to) belongs to another user or is
    not a directory.
    """
    try:
        state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = state_dir.stat()
    except OSError as error:
        raise SandboxError(
            f"{state_dir}: cannot create the state directory: {error.strerror}"
        ) from None
    if not stat.S_ISDIR(info.st_mode):
        raise SandboxError(f"{state_dir}: the state directory is not a directory")
    me = os.geteuid()
    if info.st_uid != me:
        raise SandboxError(
            f"{state_dir}: the state directory belongs to uid {info.st_uid}, not to you "
            f"(uid {me}); refusing to use it (it holds keys and secrets another user could "
            "have planted or read): choose another --state-dir or ACR_RECONCILE_SANDBOX_DIR"
        )
    mode = info.st_mode & 0o777
    if not mode & 0o077:
        return None
    try:
        os.chmod(state_dir, 0o700)
    except OSError as error:
        raise SandboxError(
            f"{state_dir}: the state directory is open to others (mode {mode:o}) and cannot "
            f"be closed: {error.strerror}"
        ) from None
    return (
        f"{state_dir}: the state directory was open to group or others (mode {mode:o}); "
        "made it 0700, as it holds keys and secrets"
    )
