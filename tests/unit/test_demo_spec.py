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


def test_the_demo_writes_its_spec_outside_any_checkout(tmp_path: Path) -> None:
    written = demo._write_spec(tmp_path)
    assert written.parent == tmp_path
    assert written.read_text(encoding="utf-8").startswith("# yaml-language-server")
    assert "apiVersion: acr-reconcile/v1" in written.read_text(encoding="utf-8")
