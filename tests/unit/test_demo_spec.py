"""The demo's walkthrough spec is package data, so an installed tool runs ``make demo``'s
story from any directory; it must stay the very spec the README and examples show."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from acr_reconcile import demo

ROOT = Path(__file__).resolve().parents[2]


def test_the_packaged_walkthrough_is_the_example() -> None:
    packaged = files("acr_reconcile").joinpath(demo.SPEC_RESOURCE).read_text(encoding="utf-8")
    assert packaged == (ROOT / "examples" / "hello-world.yaml").read_text(encoding="utf-8")


def test_the_packaged_today_spec_is_the_example() -> None:
    packaged = files("acr_reconcile").joinpath(demo.TODAY_RESOURCE).read_text(encoding="utf-8")
    assert packaged == (ROOT / "examples" / "today.yaml").read_text(encoding="utf-8")


def test_the_demo_env_file_is_private_and_names_what_to_load(tmp_path: Path) -> None:
    import stat

    env = {
        "DOCKER_CONFIG": str(tmp_path / "docker"),
        "DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE": "made up root",
        "DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE": "made up repo",
        "AZURE_CLIENT_SECRET": "never written here",
    }
    path = demo._write_env(tmp_path, env)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert "export DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE='made up root'" in text
    assert "never written here" not in text  # the sandbox env comes from `sandbox env`


def test_the_demo_writes_its_spec_outside_any_checkout(tmp_path: Path) -> None:
    written = demo._write_spec(tmp_path)
    assert written.parent == tmp_path
    assert written.read_text(encoding="utf-8").startswith("# yaml-language-server")
    assert "apiVersion: acr-reconcile/v1" in written.read_text(encoding="utf-8")
