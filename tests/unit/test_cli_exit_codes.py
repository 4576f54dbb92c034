"""A wrong command line is exit 1 (never 2, which means "changes pending")."""

from __future__ import annotations

import subprocess
import sys

import pytest

from acr_reconcile.cli import main


@pytest.mark.parametrize(
    "argv",
    [["validate"], ["plan", "--no-such-flag", "x.yaml"], ["no-such-command"], []],
)
def test_usage_errors_exit_1(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        code = main(argv)
        raise SystemExit(code)
    assert exit_.value.code == 1
    assert "Traceback" not in capsys.readouterr().err


def test_help_imports_neither_azure_nor_pydantic_nor_rich() -> None:
    probe = (
        "import sys; from acr_reconcile.cli import build_parser; build_parser().format_help();"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'azure', 'pydantic', 'rich', 'yaml', 'aiohttp', 'cryptography'}))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
