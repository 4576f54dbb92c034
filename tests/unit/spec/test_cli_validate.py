"""`acr-reconcile validate`: success output, exit codes and a light import footprint."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from spec_helpers import VALID, Cli

ROOT = Path(__file__).parents[3]
EXAMPLES = [ROOT / "examples" / "hello-world.yaml", ROOT / "examples" / "fleet.yaml"]


def test_examples_validate(cli: Cli) -> None:
    run = cli("validate", *map(str, EXAMPLES))
    assert (run.code, run.err) == (0, "")
    assert run.out.strip() == "4 document(s) in 2 file(s) valid"


def test_examples_validate_as_a_real_process() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "acr_reconcile", "validate", *map(str, EXAMPLES)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "4 document(s) in 2 file(s) valid" in done.stdout


def test_invalid_spec_exits_1_with_one_issue_per_line(tmp_path: Path, cli: Cli) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(VALID.replace("sku: Premium", "sku: Basic").replace("westeurope", "moon"))
    run = cli("validate", str(spec))
    assert run.code == 1
    assert run.out == ""
    assert run.err.splitlines() == [
        "error: 2 problem(s) in the spec input",
        f"{spec}:6:13: resourceGroup.location: 'moon' is not a known Azure region "
        "(e.g. westeurope, eastus)",
        f"{spec}:10:17: registry.contentTrust: content trust needs the Premium SKU (sku is Basic)",
    ]


def test_spec_commands_import_nothing_heavy_until_run() -> None:
    probe = (
        "import sys, argparse\n"
        "from acr_reconcile.commands import validate, schema\n"
        "sub = argparse.ArgumentParser().add_subparsers()\n"
        "validate.add_parser(sub); schema.add_parser(sub)\n"
        "heavy = [m for m in ('pydantic', 'yaml', 'rich', 'azure') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"


def test_github_output_annotates_each_problem_on_its_line(tmp_path: Path, cli: Cli) -> None:
    spec = tmp_path / "a,b.yaml"
    spec.write_text(
        VALID.replace("  location: westeurope\n", "  location: westeurope\n  tags: {'50%': x}\n")
    )
    run = cli("validate", "--output", "github", str(spec))
    assert run.code == 1
    file = str(spec).replace(",", "%2C")
    assert run.out.splitlines() == [
        f"::error file={file},line=7,col=10,title=acr-reconcile%3A resourceGroup.tags.50%25::"
        "an Azure tag name must be 1-512 characters without < > %25 & \\ ? /; got '50%25'"
    ]
    assert f"{spec}:7:10: resourceGroup.tags.50%: " in run.err


def test_github_output_is_silent_when_valid(cli: Cli) -> None:
    run = cli("validate", "--output", "github", str(EXAMPLES[0]))
    assert (run.code, run.out.strip()) == (0, "1 document(s) in 1 file(s) valid")
