"""``make demo``: the Docker Content Trust walkthrough, declaratively, on the local sandbox.

Every step is the real command line a user types (run as a child process, output shown
as it comes), against the sandbox in ``./.sandbox`` (or ``$ACR_RECONCILE_SANDBOX_DIR``),
which the demo resets first so each run tells the same story:

1. what Azure says today: enabling content trust on a new registry is refused at plan time;
2. the sandbox switched to the rules before the 2026-05-31 cut-off;
3. validate, plan, apply of the walkthrough spec (``examples/hello-world.yaml``, shipped in
   the package as ``walkthrough.yaml`` and written to the state dir, so an installed tool
   runs the demo from any directory);
4. plan again: no changes (exit 0 with ``--detailed-exitcode``);
5. the official ``notary`` CLI confirms: ``hello-world:signed`` is signed for the digest the
   registry serves, ``hello-world:unsigned`` has no valid trust data.

Signing keys go to a docker trust directory under the sandbox state dir, protected by
passphrases made up for this run; no secret is printed.
"""

from __future__ import annotations

import base64
import os
import secrets
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

# The walkthrough spec ships inside the package (a copy of examples/hello-world.yaml that a
# test keeps identical), so the demo runs from an installed tool, not only from a checkout.
SPEC_RESOURCE = "walkthrough.yaml"
GUN_REPOSITORY = "hello-world"


class DemoFailed(Exception):
    pass


def _banner(title: str) -> None:
    print(f"\n\033[1m== {title}\033[0m" if sys.stdout.isatty() else f"\n== {title}", flush=True)


def _run(args: list[str], env: dict[str, str], expect: set[int], *, show: str | None = None) -> str:
    """Run a command, echo it and its output, and check its exit code."""
    print(f"$ {show or shlex.join(args)}", flush=True)
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    sys.stdout.write(done.stdout)
    sys.stdout.write(done.stderr)
    print(f"(exit {done.returncode})", flush=True)
    if done.returncode not in expect:
        raise DemoFailed(f"{show or shlex.join(args)} exited {done.returncode}, expected {expect}")
    return done.stdout


def _tool(*args: str) -> list[str]:
    return [sys.executable, "-m", "acr_reconcile", *args]


def _sandbox_env(base: dict[str, str]) -> dict[str, str]:
    out = subprocess.run(
        _tool("sandbox", "env"), env=base, capture_output=True, text=True, check=True
    ).stdout
    env = dict(base)
    for line in out.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        if name and value:
            env[name] = shlex.split(value)[0]
    return env


def _write_spec(demo_dir: Path) -> Path:
    """The walkthrough spec written out beside the demo's other files."""
    from importlib.resources import files

    spec = demo_dir / "hello-world.yaml"
    spec.write_text(files("acr_reconcile").joinpath(SPEC_RESOURCE).read_text(encoding="utf-8"))
    return spec


def _login_server(env: dict[str, str], spec: Path) -> str:
    out = subprocess.run(
        _tool("plan", str(spec), "--output", "json"),
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    import json

    for change in json.loads(out)["changes"]:
        server = change.get("params", {}).get("login_server")
        if server:
            return str(server)
    raise DemoFailed("the plan names no login server for registrydavid")


def _notary(env: dict[str, str], trust_dir: Path, server: str, *args: str) -> list[str]:
    cmd = ["notary", "-s", f"https://{server}", "-d", str(trust_dir)]
    return [*cmd, "--tlscacert", env["REQUESTS_CA_BUNDLE"], *args]


def main() -> int:
    base = dict(os.environ)
    state_dir = Path(base.get("ACR_RECONCILE_SANDBOX_DIR", ".sandbox")).resolve()
    base["ACR_RECONCILE_SANDBOX_DIR"] = str(state_dir)
    demo_dir = state_dir / "demo"
    shutil.rmtree(demo_dir, ignore_errors=True)
    try:
        _banner("1. The local Azure, with today's content trust rules")
        _run(_tool("sandbox", "reset"), base, {0})
        _run(_tool("sandbox", "up", "--dct", "current"), base, {0})
        env = _sandbox_env(base)
        docker_config = demo_dir / "docker"
        (docker_config / "trust").mkdir(parents=True, mode=0o700)
        env["DOCKER_CONFIG"] = str(docker_config)
        env["DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE"] = secrets.token_urlsafe(24)
        env["DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE"] = secrets.token_urlsafe(24)
        spec = _write_spec(demo_dir)

        _banner("2. What Azure says today: a new registry cannot enable content trust")
        _run(_tool("plan", str(spec)), env, {1})

        _banner("3. The sandbox emulates the rules before the 2026-05-31 cut-off")
        _run(_tool("sandbox", "up", "--dct", "legacy"), base, {0})

        _banner("4. The walkthrough as one spec: validate, plan, apply")
        _run(_tool("validate", str(spec)), env, {0})
        _run(_tool("plan", str(spec), "--detailed-exitcode"), env, {2})
        _run(_tool("apply", str(spec), "--auto-approve"), env, {0})

        _banner("5. Plan again: live state matches the spec")
        _run(_tool("plan", str(spec), "--detailed-exitcode"), env, {0})

        _banner("6. The official notary CLI agrees")
        server = _login_server(env, spec)
        gun = f"{server}/{GUN_REPOSITORY}"
        notary_env = dict(env)
        user = f"{env['AZURE_CLIENT_ID']}:{env['AZURE_CLIENT_SECRET']}"
        notary_env["NOTARY_AUTH"] = base64.b64encode(user.encode()).decode()
        notary_dir = demo_dir / "notary"
        _run(_notary(env, notary_dir, server, "list", gun), notary_env, {0})
        _run(_notary(env, notary_dir, server, "lookup", gun, "unsigned"), notary_env, {1})
    except DemoFailed as failed:
        print(f"\ndemo failed: {failed}", file=sys.stderr)
        return 1
    _banner("Done")
    print(
        "The sandbox keeps running. Explore it with:\n"
        '  eval "$(.venv/bin/acr-reconcile sandbox env)"\n'
        f"  .venv/bin/acr-reconcile plan {spec}\n"
        "Stop it with: .venv/bin/acr-reconcile sandbox down"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
