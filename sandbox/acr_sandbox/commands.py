"""What each ``acr-reconcile sandbox`` action does; output is plain text on stdout."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from acr_sandbox import process
from acr_sandbox.environment import export_lines
from acr_sandbox.errors import SandboxError

REQUIRED_BINARIES = {
    "/usr/bin/docker-registry": "docker-registry",
    "/usr/bin/notary-server": "notary",
    "/usr/bin/notary-signer": "notary",
    "/usr/sbin/mariadbd": "mariadb-server-core",  # trust data that survives restarts
    "/usr/bin/mariadb": "mariadb-client-core",
}


def _check_binaries() -> None:
    missing = [f"{path} (Debian package {pkg})" for path, pkg in REQUIRED_BINARIES.items()
               if not Path(path).exists()]  # fmt: skip
    if missing:
        raise SandboxError(
            "the sandbox data plane needs " + ", ".join(missing) + "; install them with "
            "'sudo apt-get install docker-registry notary' (or run 'make sysdeps')"
        )


def up(state_dir: Path, port: int | None, dct: str | None) -> int:
    _check_binaries()
    already = process.running_pid(state_dir)
    pid = process.start(state_dir, port=port, dct=dct)
    if already and dct:
        process.admin(state_dir, "POST", "/_sandbox/settings", {"dct": dct})
    print(f"sandbox {'already running' if already else 'started'} (pid {pid}, state {state_dir})")
    return status(state_dir)


def down(state_dir: Path) -> int:
    stopped = process.stop(state_dir)
    print("sandbox stopped" if stopped else "sandbox was not running")
    return 0


def status(state_dir: Path) -> int:
    pid = process.running_pid(state_dir)
    if pid is None:
        print(f"sandbox: not running (state {state_dir})")
        return 1
    report = process.admin(state_dir, "GET", "/_sandbox/status")
    print(f"sandbox: {report['url']}  pid {pid}  state {state_dir}")
    print(f"content trust rules: {report['dct']}")
    width = max(len(part["name"]) for part in report["parts"])
    for part in report["parts"]:
        mark = "healthy" if part["healthy"] else "UNHEALTHY"
        print(f"  {part['name']:<{width}}  {mark:<9}  {part['detail']}")
    return 0 if report["healthy"] else 1


def env(state_dir: Path) -> int:
    print(export_lines(state_dir))
    return 0


def reset(state_dir: Path) -> int:
    """A fresh start: state, secrets, registry content and key vault contents go. The CA,
    the token signing key, the admin token and the port stay, so trust bundles and ``env``
    lines keep working."""
    was_running = process.running_pid(state_dir) is not None
    if was_running:
        process.stop(state_dir)
    port = _kept_port(state_dir)
    dct = _kept_dct(state_dir)
    retire_credentials(state_dir)
    for name in ("state.json", "requests.jsonl", "secrets", "dataplane", "keyvault", "faults.json"):
        target = state_dir / name
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
    print(f"sandbox state cleared ({state_dir})")
    if was_running:
        process.start(state_dir, port=port, dct=dct)
        print("sandbox restarted")
    return 0


def retire_credentials(state_dir: Path) -> None:
    """The tenant and app ids the reset retires, so Entra can say why they fail."""
    from acr_sandbox.retired import retire_app_ids

    try:
        state = json.loads((state_dir / "state.json").read_text())
    except (OSError, ValueError):
        return
    principals = state.get("principals", {}) if isinstance(state, dict) else {}
    ids = [str(p.get("appId")) for p in principals.values() if isinstance(p, dict)]
    owner = state.get("owner", {}) if isinstance(state, dict) else {}
    ids += [str(owner.get("appId"))] if isinstance(owner, dict) and owner.get("appId") else []
    ids += [str(state["tenantId"])] if isinstance(state, dict) and state.get("tenantId") else []
    retire_app_ids(state_dir, [i for i in ids if i and i != "None"])


def _kept_port(state_dir: Path) -> int | None:
    try:
        url = process.base_url(state_dir)
    except SandboxError:
        return None
    return int(url.rsplit(":", 1)[1])


def _kept_dct(state_dir: Path) -> str | None:
    try:
        settings = json.loads((state_dir / "state.json").read_text())["settings"]
    except (OSError, ValueError, KeyError):
        return None
    return str(settings.get("dct")) if settings.get("dct") else None


def principal_add(state_dir: Path, name: str, principal_type: str = "ServicePrincipal") -> int:
    if process.running_pid(state_dir) is None:
        raise SandboxError("the sandbox is not running; run 'acr-reconcile sandbox up' first")
    body = {"displayName": name, "type": principal_type}
    created = process.admin(state_dir, "POST", "/_sandbox/principals", body)
    print(f"displayName: {name}")
    print(f"type:        {principal_type}")
    if principal_type == "ServicePrincipal":
        print(f"appId:       {created['appId']}")
    print(f"objectId:    {created['objectId']}")
    if created.get("secret"):
        print(f"secret:      {created['secret']}   (shown once; it is not stored)")
    return 0
