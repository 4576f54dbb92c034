"""``make demo``: today's story on the local sandbox, in the commands a user types.

Every step is the real command line (run as a child process, output shown as it comes),
against the sandbox in ``./.sandbox`` (or ``$ACR_RECONCILE_SANDBOX_DIR``), which the demo
resets first so each run tells the same story:

(a) a new registry under today's rules, signed with Notation through a Key Vault
    certificate (``examples/today.yaml``): content trust cannot be enabled any more;
    validate, plan, apply, plan with no changes; ``verify`` shows the signed tag verified
    and the unsigned one reported;
(b) a legacy Docker Content Trust registry (the sandbox's rules before the 2026-05-31
    cut-off), set up as Azure's DCT walkthrough (``examples/hello-world.yaml``), then
    migrated: ``export --to notation`` writes the migration document, plan shows the
    DCT inventory, apply writes the inventory file, signs every DCT-signed digest,
    verifies them and only then disables content trust; plan has no changes and
    ``verify`` checks every carried signature, with content trust disabled.

The specs ship inside the package (copies of the examples a test keeps identical) and
are written to the demo's directory, so an installed tool runs the demo from anywhere.
DCT signing keys go to a docker trust directory there, protected by passphrases made up
for this run, kept only in ``demo.env`` (mode 0600) for whoever continues by hand; no
secret is printed.
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
TODAY_RESOURCE = "today.yaml"
GUN_REPOSITORY = "hello-world"
MIGRATION_SIGNING = [
    "--signing-vault",
    "kv-registrydavid",
    "--signing-certificate",
    "release",
    "--signing-subject",
    "CN=release, O=Contoso, ST=WA, C=US",
]


class DemoFailed(Exception):
    pass


def _banner(title: str) -> None:
    print(f"\n\033[1m== {title}\033[0m" if sys.stdout.isatty() else f"\n== {title}", flush=True)


def _run(
    args: list[str], env: dict[str, str], expect: set[int], *, show: str | None = None
) -> None:
    """Run a command, echo it, let its output through as it comes (an apply that waits
    for Key Vault says so while it waits), and check its exit code."""
    print(f"$ {show or shlex.join(args)}", flush=True)
    done = subprocess.run(args, env=env, stderr=subprocess.STDOUT, check=False)
    print(f"(exit {done.returncode})", flush=True)
    if done.returncode not in expect:
        raise DemoFailed(f"{show or shlex.join(args)} exited {done.returncode}, expected {expect}")


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


def _write_spec(
    demo_dir: Path, resource: str = SPEC_RESOURCE, name: str = "hello-world.yaml"
) -> Path:
    """A packaged spec written out beside the demo's other files."""
    from importlib.resources import files

    spec = demo_dir / name
    spec.write_text(files("acr_reconcile").joinpath(resource).read_text(encoding="utf-8"))
    return spec


def _write_env(demo_dir: Path, env: dict[str, str]) -> Path:
    """What a newcomer loads to continue by hand: the docker trust directory and the
    passphrases this run made up for its DCT keys (0600: the one file that holds them)."""
    from acr_reconcile.files import write_private_atomic

    names = (
        "DOCKER_CONFIG",
        "DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE",
        "DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE",
    )
    path = demo_dir / "demo.env"
    text = "".join(f"export {n}={shlex.quote(env[n])}\n" for n in names)
    write_private_atomic(path, text.encode(), "the demo's environment")
    return path


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


def _today(env: dict[str, str], demo_dir: Path) -> None:
    """(a) a new registry under today's rules, signed with Notation."""
    spec = _write_spec(demo_dir, TODAY_RESOURCE, "today.yaml")
    _banner("a1. Today's rules: a new registry signs with Notation through Key Vault")
    _run(_tool("validate", str(spec)), env, {0})
    _run(_tool("plan", str(spec), "--detailed-exitcode"), env, {2})
    _banner("a2. Apply: resource group, registry, vault, certificate, roles, signature")
    _run(_tool("apply", str(spec), "--auto-approve"), env, {0})
    _banner("a3. Plan again: no changes")
    _run(_tool("plan", str(spec), "--detailed-exitcode"), env, {0})
    _banner("a4. Verify: the signed tag verifies, the unsigned one is reported")
    _run(_tool("verify", str(spec)), env, {0})


def _legacy(env: dict[str, str], base: dict[str, str], demo_dir: Path) -> None:
    """(b) a legacy DCT registry, set up as Azure's walkthrough, then migrated."""
    spec = _write_spec(demo_dir)
    _banner("b1. Today's rules refuse a new DCT registry")
    _run(_tool("plan", str(spec)), env, {1})
    _banner("b2. The sandbox emulates the rules before the 2026-05-31 cut-off")
    _run(_tool("sandbox", "up", "--dct", "legacy"), base, {0})
    _banner("b3. Azure's DCT walkthrough as one spec: validate, plan, apply, plan")
    _run(_tool("validate", str(spec)), env, {0})
    _run(_tool("apply", str(spec), "--auto-approve"), env, {0})
    _run(_tool("plan", str(spec), "--detailed-exitcode"), env, {0})
    _banner("b4. The official notary CLI sees the DCT signature")
    server = _login_server(env, spec)
    gun = f"{server}/{GUN_REPOSITORY}"
    notary_env = dict(env)
    user = f"{env['AZURE_CLIENT_ID']}:{env['AZURE_CLIENT_SECRET']}"
    notary_env["NOTARY_AUTH"] = base64.b64encode(user.encode()).decode()
    notary_dir = demo_dir / "notary"
    _run(_notary(env, notary_dir, server, "list", gun), notary_env, {0})
    _run(_notary(env, notary_dir, server, "lookup", gun, "unsigned"), notary_env, {1})

    migrate = demo_dir / "migrate.yaml"
    saved = demo_dir / "migrate.plan.json"
    inventory = demo_dir / "dct-inventory-registrydavid.json"
    _banner("b5. Migrate to Notation: the migration document, from the registry")
    _run(
        _tool(
            "export",
            *("--resource-group", "resourcegroupdavid", "--registry", "registrydavid"),
            *("--to", "notation", *MIGRATION_SIGNING, "--out", str(migrate)),
        ),
        env,
        {0},
    )
    _run(_tool("validate", str(migrate)), env, {0})
    _banner("b6. Plan: the DCT inventory, a signature per digest, verify, then disable")
    _run(_tool("plan", str(migrate), "--out", str(saved)), env, {0})
    _banner("b7. Without --allow-destroy-trust nothing is changed")
    _run(_tool("apply", str(saved)), env, {1})
    _banner("b8. Apply: the inventory written, signatures made and verified, DCT disabled")
    _run(
        _tool("apply", str(saved), "--allow-destroy-trust", "--dct-inventory", str(inventory)),
        env,
        {0},
    )
    _banner("b9. Plan again (from the inventory file now that DCT is gone): no changes")
    cont = ("--dct-inventory", str(inventory))
    _run(_tool("plan", str(migrate), "--detailed-exitcode", *cont), env, {0})
    _banner("b10. Verify every signature carried over from DCT; content trust is disabled")
    _run(_tool("verify", str(migrate), *cont), env, {0})


def main() -> int:
    base = dict(os.environ)
    state_dir = Path(base.get("ACR_RECONCILE_SANDBOX_DIR", ".sandbox")).resolve()
    base["ACR_RECONCILE_SANDBOX_DIR"] = str(state_dir)
    demo_dir = state_dir / "demo"
    shutil.rmtree(demo_dir, ignore_errors=True)
    try:
        _banner("The local Azure, with today's content trust rules")
        _run(_tool("sandbox", "reset"), base, {0})
        _run(_tool("sandbox", "up", "--dct", "current"), base, {0})
        env = _sandbox_env(base)
        docker_config = demo_dir / "docker"
        (docker_config / "trust").mkdir(parents=True, mode=0o700)
        env["DOCKER_CONFIG"] = str(docker_config)
        env["DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE"] = secrets.token_urlsafe(24)
        env["DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE"] = secrets.token_urlsafe(24)
        env_file = _write_env(demo_dir, env)
        _today(env, demo_dir)
        _legacy(env, base, demo_dir)
    except DemoFailed as failed:
        print(f"\ndemo failed: {failed}", file=sys.stderr)
        return 1
    _banner("Done")
    tool = Path(sys.executable).parent / "acr-reconcile"
    print(
        "The sandbox keeps running (with the rules before the cut-off). Continue by hand:\n"
        f"  export ACR_RECONCILE_SANDBOX_DIR={state_dir}\n"
        f'  eval "$({tool} sandbox env)"\n'
        f"  source {env_file}   # mode 0600: the DCT passphrases this demo made up\n"
        f"  {tool} verify {demo_dir / 'today.yaml'}\n"
        f"  {tool} plan {demo_dir / 'migrate.yaml'} --dct-inventory "
        f"{demo_dir / 'dct-inventory-registrydavid.json'}\n"
        f"Every step above is such a command; the files are in {demo_dir}.\n"
        f"Stop the sandbox with: {tool} sandbox down"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
