"""`acr-reconcile sandbox …` end to end on a daemon of its own: up, status, env, restart
with persisted state and port, fault rules from the state dir, reset and down."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.containerregistry.models import Registry, Sku

from acr_reconcile.cli import main
from acr_sandbox import process
from acr_sandbox.testing import SandboxHandle, free_port


@pytest.fixture()
def state_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "sandbox"
    process.stop(tmp_path / "sandbox")  # whatever a failing test left running


def _cli(state_dir: Path, *args: str) -> int:
    return main(["sandbox", "--state-dir", str(state_dir), *args])


def _exports(text: str) -> dict[str, str]:
    pairs = [shlex.split(line.removeprefix("export "))[0] for line in text.splitlines()]
    return dict(pair.split("=", 1) for pair in pairs)


def test_lifecycle_with_persistence(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    assert _cli(state_dir, "up", "--port", str(port), "--dct", "legacy") == 0
    assert "healthy" in capsys.readouterr().out
    assert _cli(state_dir, "env") == 0
    exported = _exports(capsys.readouterr().out)
    assert exported["ARM_METADATA_HOSTNAME"] == f"127.0.0.1:{port}"
    assert exported["AZURE_SUBSCRIPTION_ID"] == "00000000-0000-0000-0000-000000000000"
    assert Path(exported["REQUESTS_CA_BUNDLE"]).read_text().count("BEGIN CERTIFICATE") > 1
    assert oct((state_dir / "tls" / "ca-key.pem").stat().st_mode & 0o777) == "0o600"
    handle = SandboxHandle(state_dir)
    clients = handle.clients()
    clients.resources.resource_groups.create_or_update("kept", {"location": "westeurope"})
    clients.registries.registries.begin_create(
        "kept", "regkept0001", Registry(location="westeurope", sku=Sku(name="Basic"))
    ).result()
    handle.close_clients()
    secret = exported["AZURE_CLIENT_SECRET"]
    assert secret not in (state_dir / "state.json").read_text()  # only its hash is kept

    assert _cli(state_dir, "down") == 0
    assert _cli(state_dir, "status") == 1
    (state_dir / "faults.json").write_text(
        json.dumps([{"method": "GET", "path": "/resourcegroups/kept$", "status": 500, "count": 1}])
    )
    assert _cli(state_dir, "up") == 0  # port, state and mode come back
    capsys.readouterr()
    again = SandboxHandle(state_dir)
    assert again.env() == exported
    clients = again.clients(retry_total=0)
    with pytest.raises(HttpResponseError) as injected:
        clients.resources.resource_groups.get("kept")
    assert injected.value.status_code == 500
    assert clients.resources.resource_groups.get("kept").name == "kept"
    registry = clients.registries.registries.get("kept", "regkept0001")
    assert registry.provisioning_state == "Succeeded"
    assert again.settings()["dct"] == "legacy"
    again.close_clients()

    assert _cli(state_dir, "principal", "add", "Alice") == 0
    shown = capsys.readouterr().out
    assert "appId:" in shown and "secret:" in shown
    assert _cli(state_dir, "reset") == 0
    capsys.readouterr()
    fresh = SandboxHandle(state_dir)
    assert fresh.tenant_id != exported["AZURE_TENANT_ID"]
    assert fresh.arm_url.endswith(f":{port}")
    clients = fresh.clients()
    assert clients.resources.resource_groups.check_existence("kept") is False
    fresh.close_clients()
    assert _cli(state_dir, "down") == 0
    assert process.running_pid(state_dir) is None


def test_down_without_a_daemon_and_env_before_up(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sandbox", "down", "--state-dir", str(state_dir)]) == 0  # after the action too
    assert "not running" in capsys.readouterr().out
    assert _cli(state_dir, "env") == 1
    assert "sandbox up" in capsys.readouterr().err


def test_env_names_the_state_dir_principals_of_each_type_and_a_reset_says_what_to_do(
    state_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _cli(state_dir, "up", "--dct", "legacy") == 0
    capsys.readouterr()
    assert _cli(state_dir, "env") == 0
    exported = _exports(capsys.readouterr().out)
    assert exported["ACR_RECONCILE_SANDBOX_DIR"] == str(state_dir.resolve())

    # status and down find the sandbox from any directory once the env is loaded
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    for key, value in exported.items():
        monkeypatch.setenv(key, value)
    assert main(["sandbox", "status"]) == 0
    capsys.readouterr()

    assert main(["sandbox", "principal", "add", "ReleaseManagers", "--type", "Group"]) == 0
    group = capsys.readouterr().out
    assert "type:        Group" in group and "objectId:" in group
    assert "appId:" not in group and "secret:" not in group
    assert main(["sandbox", "principal", "add", "Alice", "--type", "User"]) == 0
    assert "type:        User" in capsys.readouterr().out

    assert main(["sandbox", "reset"]) == 0
    capsys.readouterr()
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        (Path(__file__).parents[3] / "examples" / "hello-world.yaml")
        .read_text()
        .split("signers:")[0]
    )
    stale = main(["plan", str(spec)])  # the shell still has the old exports
    err = capsys.readouterr().err
    assert stale == 1
    assert "This sandbox was reset" in err
    assert 'eval "$(acr-reconcile sandbox env)"' in err
    assert exported["AZURE_CLIENT_SECRET"] not in err
    assert main(["sandbox", "down"]) == 0
