"""No secret the tool holds ever leaves it, and the keys it writes are private.

Every command a pipeline runs (validate, plan in every output format, plan --out, apply
of a spec and of a plan file, export) and the ways they fail (a wrong client secret, a
wrong key passphrase, an invalid spec, an unknown principal) run as real subprocesses
with known secret values in their environment. Their stdout, stderr, plan files,
exported specs, key store and what they caused in the sandbox's logs must hold none of
them, nor any token: neither the ones obtained here with the same credential nor any
JWT-shaped string at all.
"""

from __future__ import annotations

import json
import re
import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from acr_sandbox.testing import SandboxHandle
from tests.e2e.pipeline_support import (
    REPOSITORY_PASSPHRASE,
    ROOT_PASSPHRASE,
    WALKTHROUGH,
    WALKTHROUGH_TARGETS,
    login_server,
    run_tool,
    user_env,
)
from tests.e2e.plan_apply_support import REGISTRY, RG, Result, sdk

pytestmark = pytest.mark.e2e

JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.eyJ")
WRONG_SECRET = "wrong-client-secret-" + secrets.token_urlsafe(16)
WRONG_PASSPHRASE = "wrong-passphrase-" + secrets.token_urlsafe(16)


@dataclass
class Runs:
    """What the commands produced, by label, and the secrets to look for, by name."""

    results: dict[str, Result] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    sandbox_log: str = ""  # what the daemon logged and recorded while the commands ran
    key_store: Path = Path()


def _found(text: str, secret_values: dict[str, str]) -> list[str]:
    """Names (never values) of the secrets in ``text``, and 'a JWT' for any token."""
    names = [name for name, value in secret_values.items() if value and value in text]
    return names + (["a JWT"] if JWT.search(text) else [])


def _tokens(sandbox: SandboxHandle) -> dict[str, str]:
    """An Entra token and ACR refresh/access tokens, got with the pipeline's credential."""
    import requests

    from acr_reconcile.registry.acr_auth import AcrTokenSource

    credential = sandbox.credential()
    server = login_server(sandbox, WALKTHROUGH_TARGETS[0])
    realm = f"https://{server}/oauth2/token"
    with requests.Session() as session:
        source = AcrTokenSource(credential, verify=sandbox.ca_bundle, session=session)
        tokens = source.for_registry(server)
        found = {
            "an Entra token": credential.get_token("https://management.azure.com/.default").token,
            "an ACR refresh token": tokens.refresh_token(realm=realm, service=server),
            "an ACR access token": tokens.access_token(
                realm=realm, service=server, scopes=["repository:hello-world:pull"]
            ),
        }
    credential.close()
    return found


def _enable_admin_user(sandbox: SandboxHandle) -> None:
    from azure.mgmt.containerregistry.models import (
        RegistryPropertiesUpdateParameters,
        RegistryUpdateParameters,
    )

    update = RegistryUpdateParameters(
        properties=RegistryPropertiesUpdateParameters(admin_user_enabled=True)
    )
    with sdk(sandbox) as clients:
        clients.registries.registries.begin_update(RG, REGISTRY, update).result()


def _spec_variant(directory: Path, name: str, old: str, new: str) -> Path:
    path = directory / name
    text = WALKTHROUGH.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return path


def _successful_runs(runs: Runs, env: dict[str, str], work: Path, sandbox: SandboxHandle) -> None:
    spec, saved = WALKTHROUGH, work / "first.plan"
    runs.results["validate"] = run_tool(env, "validate", spec)
    for output in ("text", "json", "markdown", "github"):
        runs.results[f"plan --output {output}"] = run_tool(env, "plan", spec, "--output", output)
    runs.results["plan --out"] = run_tool(env, "plan", spec, "--out", saved)
    runs.files["saved plan"] = saved.read_text()
    runs.results["apply PLANFILE"] = run_tool(env, "apply", saved)
    _enable_admin_user(sandbox)
    runs.results["apply SPEC --output json"] = run_tool(
        env, "apply", spec, "--auto-approve", "--output", "json"
    )
    _enable_admin_user(sandbox)
    runs.results["apply SPEC --output markdown"] = run_tool(
        env, "apply", spec, "--auto-approve", "--output", "markdown"
    )
    exported = work / "exported.yaml"
    where = ["--subscription", sandbox.subscription_id, "--resource-group", RG]
    runs.results["export"] = run_tool(env, "export", *where, "--registry", REGISTRY)
    runs.results["export --out"] = run_tool(
        env, "export", *where, "--registry", REGISTRY, "--out", exported
    )
    runs.files["exported spec"] = exported.read_text()


def _failing_runs(runs: Runs, env: dict[str, str], work: Path) -> None:
    spec = WALKTHROUGH
    wrong_secret = env | {"AZURE_CLIENT_SECRET": WRONG_SECRET}
    runs.results["FAIL plan, wrong client secret"] = run_tool(wrong_secret, "plan", spec)
    runs.results["FAIL apply, wrong client secret"] = run_tool(
        wrong_secret, "apply", spec, "--auto-approve"
    )
    more = _spec_variant(work, "more.yaml", "tags: [signed]", "tags: [signed, more]")
    wrong_passphrase = env | {REPOSITORY_PASSPHRASE: WRONG_PASSPHRASE}
    runs.results["FAIL apply, wrong passphrase"] = run_tool(
        wrong_passphrase, "apply", more, "--auto-approve"
    )
    invalid = _spec_variant(work, "invalid.yaml", "sku: Premium", "sku: Platinum")
    runs.results["FAIL validate, invalid spec"] = run_tool(env, "validate", invalid)
    runs.results["FAIL plan, invalid spec"] = run_tool(env, "plan", invalid, "--output", "json")
    nobody = _spec_variant(
        work, "nobody.yaml", "displayName: DavidServiceAccount", "displayName: NoSuchPrincipal"
    )
    runs.results["FAIL plan, unknown principal"] = run_tool(
        env, "plan", nobody, "--output", "github"
    )


def _log_offsets(state_dir: Path) -> dict[str, int]:
    names = ("daemon.log", "requests.jsonl")
    return {n: (state_dir / n).stat().st_size if (state_dir / n).exists() else 0 for n in names}


def _logged_since(state_dir: Path, offsets: dict[str, int]) -> str:
    parts = []
    for name, offset in offsets.items():
        with (state_dir / name).open("rb") as handle:
            handle.seek(offset)
            parts.append(handle.read().decode("utf-8", "replace"))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def runs(sandbox: SandboxHandle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    sandbox.reset_state()
    sandbox.settings(dct="legacy", replication_lag=0.0)
    work = tmp_path_factory.mktemp("hygiene")
    env = user_env(
        sandbox,
        work,
        **{
            ROOT_PASSPHRASE: "root-" + secrets.token_urlsafe(24),
            REPOSITORY_PASSPHRASE: "repository-" + secrets.token_urlsafe(24),
        },
    )
    result = Runs(key_store=work / "docker")
    result.secrets = {
        "the client secret": sandbox.client_secret,
        "the root passphrase": env[ROOT_PASSPHRASE],
        "the repository passphrase": env[REPOSITORY_PASSPHRASE],
        "the wrong client secret": WRONG_SECRET,
        "the wrong passphrase": WRONG_PASSPHRASE,
    }
    sandbox.clear_requests()
    offsets = _log_offsets(sandbox.state_dir)
    _successful_runs(result, env, work, sandbox)
    _failing_runs(result, env, work)
    result.secrets |= _tokens(sandbox)
    entries = sandbox.requests(data_plane=True)
    assert any(e.get("plane") == "data" for e in entries), "no loginServer request logged"
    result.sandbox_log = _logged_since(sandbox.state_dir, offsets) + json.dumps(entries)
    yield result


def test_the_commands_did_what_a_pipeline_expects(runs: Runs) -> None:
    """The scan below only means something if the commands really ran."""
    codes = {label: result.code for label, result in runs.results.items()}
    assert {k: c for k, c in codes.items() if not k.startswith("FAIL")} == {
        k: 0 for k in codes if not k.startswith("FAIL")
    }, {k: runs.results[k].text[-800:] for k, c in codes.items() if c and "FAIL" not in k}
    assert all(c == 1 for k, c in codes.items() if k.startswith("FAIL")), codes
    assert "hello-world" in runs.results["apply PLANFILE"].out
    assert REGISTRY in runs.results["export"].out
    for label, result in runs.results.items():
        assert "Traceback" not in result.text, label


def test_no_output_plan_file_or_exported_spec_holds_a_secret_or_token(runs: Runs) -> None:
    leaks = {
        label: _found(result.out, runs.secrets) + _found(result.err, runs.secrets)
        for label, result in runs.results.items()
    }
    leaks |= {label: _found(text, runs.secrets) for label, text in runs.files.items()}
    assert {label: names for label, names in leaks.items() if names} == {}


def test_what_the_commands_caused_in_the_sandbox_logs_holds_no_secret(runs: Runs) -> None:
    assert runs.sandbox_log, "the sandbox logged nothing while the commands ran"
    assert _found(runs.sandbox_log, runs.secrets) == []


def test_the_key_store_holds_only_encrypted_private_keys_readable_by_the_owner(
    runs: Runs,
) -> None:
    trust = runs.key_store / "trust"
    keys = sorted((trust / "private").glob("*.key"))
    assert len(keys) >= 2  # the root key and the repository's targets key
    for directory in (trust, trust / "private"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    for key in keys:
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key
        assert "ENCRYPTED PRIVATE KEY" in key.read_text(), key
    for path in trust.rglob("*"):
        if path.is_file():
            assert _found(path.read_text(errors="replace"), runs.secrets) == [], path


def test_every_key_and_secret_file_of_the_sandbox_is_owner_only(sandbox: SandboxHandle) -> None:
    private = [
        path
        for path in sandbox.state_dir.rglob("*")
        if path.is_file()
        and path.stat().st_size < 1_000_000
        and (
            "PRIVATE KEY" in path.read_text(errors="replace")
            or path.suffix in (".key", ".secret", ".token")
            or path.name.endswith("-key.pem")
        )
    ]
    names = {p.name for p in private}
    assert {"ca-key.pem", "server-key.pem", "admin.token"} <= names, names
    loose = [str(p) for p in private if stat.S_IMODE(p.stat().st_mode) != 0o600]
    assert loose == []
