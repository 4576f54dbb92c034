"""A full disk under the plan file, the trust cache or the key store ends the command in
one error line naming the file: no traceback, no bare ``OSError``, the previous plan file
intact."""

from __future__ import annotations

from pathlib import Path

import pytest

from acr_sandbox.testing import SandboxHandle
from tests.e2e.plan_apply_support import Walkthrough, cli_runner
from tests.support.full_disk import full_tmpfs

pytestmark = pytest.mark.e2e
OLD_PLAN = b'{"an": "older plan the user still wants"}\n'


def test_plan_out_on_a_full_disk(
    sandbox: SandboxHandle,
    walkthrough: Walkthrough,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cli = cli_runner(walkthrough.env, monkeypatch, capsys)
    with full_tmpfs(tmp_path / "full", {"plan.json": OLD_PLAN}) as full:
        result = cli("plan", walkthrough.spec, "--out", full / "plan.json")
        assert result.code == 1, result.text
        assert "Traceback" not in result.text and "OSError" not in result.text
        errors = [line for line in result.err.splitlines() if line.startswith("error:")]
        assert errors == [
            f"error: {full / 'plan.json'}: cannot write the plan file: No space left on "
            "device; any previous version of it is unchanged"
        ]
        assert (full / "plan.json").read_bytes() == OLD_PLAN


def test_apply_with_the_key_store_on_a_full_disk(
    sandbox: SandboxHandle,
    walkthrough: Walkthrough,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with full_tmpfs(tmp_path / "full") as full:
        env = walkthrough.env | {"DOCKER_CONFIG": str(full / "docker")}
        cli = cli_runner(env, monkeypatch, capsys)
        result = cli("apply", walkthrough.spec, "--auto-approve")
        assert result.code == 1, result.text
        assert "Traceback" not in result.text and "OSError" not in result.text
        assert "cannot write" in result.text and "No space left on device" in result.text
        assert str(full / "docker") in result.text


def test_plan_with_the_trust_cache_on_a_full_disk(
    sandbox: SandboxHandle,
    walkthrough: Walkthrough,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Plan re-reads the signed repository's trust data and refreshes the cache with it."""
    applied = cli_runner(walkthrough.env, monkeypatch, capsys)(
        "apply", walkthrough.spec, "--auto-approve"
    )
    assert applied.code == 0, applied.text
    docker = Path(walkthrough.env["DOCKER_CONFIG"])
    assert list((docker / "trust" / "tuf").rglob("root.json"))
    with full_tmpfs(tmp_path / "full", trees={"docker": docker}) as full:
        env = walkthrough.env | {"DOCKER_CONFIG": str(full / "docker")}
        result = cli_runner(env, monkeypatch, capsys)("plan", walkthrough.spec)
        assert result.code == 1, result.text
        assert "Traceback" not in result.text and "OSError" not in result.text
        errors = [line for line in result.err.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, result.text
        assert "cannot write the trust cache: No space left on device" in errors[0]
        assert str(full / "docker" / "trust" / "tuf") in errors[0]
