"""Starting, finding and stopping the sandbox daemon, and talking to its admin API.

The daemon runs in its own session, tracked by ``sandbox.pid`` in the state dir. Stopping
only ever signals a pid from that file, and only if that process still is the sandbox
daemon (its command line says so), so a stale file never kills an unrelated process.
"""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from acr_sandbox.certs import cert_paths
from acr_sandbox.errors import SandboxError
from acr_sandbox.statedir import secure_state_dir

PID_FILE = "sandbox.pid"
LOG_FILE = "daemon.log"
DAEMON_MODULE = "acr_sandbox.daemon"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
# daemons this process started, kept so they are reaped (and not reported as leaked)
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def default_state_dir() -> Path:
    return Path(os.environ.get("ACR_RECONCILE_SANDBOX_DIR") or ".sandbox").resolve()


def _read_state(state_dir: Path) -> dict[str, Any]:
    path = state_dir / "state.json"
    if not path.exists():
        raise SandboxError(f"{state_dir}: no sandbox state here; run 'acr-reconcile sandbox up'")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def base_url(state_dir: Path) -> str:
    port = _read_state(state_dir).get("port")
    if not port:
        raise SandboxError(f"{state_dir}: the sandbox has never been started")
    return f"https://127.0.0.1:{port}"


def running_pid(state_dir: Path) -> int | None:
    """The daemon's pid if the pid file names a live sandbox daemon."""
    path = state_dir / PID_FILE
    try:
        pid = int(path.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except (OSError, ValueError):
        return None
    if DAEMON_MODULE.encode() not in cmdline or str(state_dir).encode() not in cmdline:
        return None
    return pid


def _context(state_dir: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert_paths(state_dir).ca_cert))


def admin(state_dir: Path, method: str, path: str, body: Any = None, timeout: float = 10.0) -> Any:
    """Call the admin API; the admin token is read from the state dir."""
    token = (state_dir / "admin.token").read_text().strip()
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        base_url(state_dir) + path,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=_context(state_dir)) as r:
            return json.loads(r.read() or b"null")
    except urllib.error.HTTPError as error:
        with error:
            detail = error.read().decode(errors="replace")[:300]
        raise SandboxError(f"sandbox admin {method} {path}: HTTP {error.code} {detail}") from None
    except (urllib.error.URLError, OSError) as error:
        raise SandboxError(f"sandbox admin {method} {path}: not reachable ({error})") from None


def healthy(state_dir: Path) -> bool:
    try:
        url = base_url(state_dir) + "/_sandbox/health"
        with urllib.request.urlopen(url, timeout=2, context=_context(state_dir)) as response:
            return bool(response.status == 200)
    except (SandboxError, OSError, ValueError):
        return False


def start(
    state_dir: Path,
    *,
    port: int | None = None,
    dct: str | None = None,
    timeout: float = START_TIMEOUT,
) -> int:
    """Start the daemon in the background and wait until it answers; returns its pid."""
    repaired = secure_state_dir(state_dir)  # before its pid file or keys are believed
    if repaired:
        print(f"note: {repaired}", file=sys.stderr)
    existing = running_pid(state_dir)
    if existing:
        return existing
    command = [sys.executable, "-m", DAEMON_MODULE, "--state-dir", str(state_dir)]
    if port:
        command += ["--port", str(port)]
    if dct:
        command += ["--dct", dct]
    with (state_dir / LOG_FILE).open("ab") as log:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
        )
    (state_dir / PID_FILE).write_text(str(process.pid))
    _CHILDREN[process.pid] = process
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            (state_dir / PID_FILE).unlink(missing_ok=True)
            _CHILDREN.pop(process.pid, None)
            raise SandboxError(
                f"the sandbox daemon exited with status {process.returncode}; "
                f"see {state_dir / LOG_FILE}"
            )
        if (state_dir / "daemon.pid").exists() and healthy(state_dir):
            return process.pid
        time.sleep(0.1)
    stop(state_dir)
    raise SandboxError(f"the sandbox did not become healthy in {timeout:.0f}s; see {LOG_FILE}")


def stop(state_dir: Path, timeout: float = STOP_TIMEOUT) -> bool:
    """Stop the daemon named by the pid file; False when none was running."""
    pid = running_pid(state_dir)
    if pid is None:
        (state_dir / PID_FILE).unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
    child = _CHILDREN.pop(pid, None)
    if child is not None:
        child.wait(timeout=timeout)
    (state_dir / PID_FILE).unlink(missing_ok=True)
    return True


def _alive(pid: int) -> bool:
    child = _CHILDREN.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ", 1)[-1].startswith("Z"))
