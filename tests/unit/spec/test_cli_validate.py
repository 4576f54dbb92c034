"""`acr-reconcile validate`: success output, exit codes and a light import footprint."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from spec_helpers import VALID, Cli

ROOT = Path(__file__).parents[3]
EXAMPLES = [ROOT / "examples" / n for n in ("hello-world.yaml", "fleet.yaml", "notation.yaml")]


def test_examples_validate(cli: Cli) -> None:
    run = cli("validate", *map(str, EXAMPLES))
    assert (run.code, run.err) == (0, "")
    assert run.out.strip() == "5 document(s) in 3 file(s) valid"


def test_examples_validate_as_a_real_process() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "acr_reconcile", "validate", *map(str, EXAMPLES)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "5 document(s) in 3 file(s) valid" in done.stdout


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


def test_a_directory_with_other_tools_yaml_validates_with_one_note(cli: Cli) -> None:
    """examples/ holds the pipelines beside the specs: they are skipped, not 25 errors."""
    run = cli("validate", str(ROOT / "examples"))
    assert run.code == 0, run.err
    specs = len(list((ROOT / "examples").glob("*.yaml")))  # every spec example, no pipeline
    assert run.out.strip().endswith(f" in {specs} file(s) valid"), run.out
    notes = run.err.splitlines()
    assert len(notes) == 1 and notes[0].startswith("note: skipped 4 YAML file(s)")
    assert "no apiVersion: acr-reconcile/" in notes[0]


def test_another_tools_yaml_named_explicitly_is_one_error_per_document(cli: Cli) -> None:
    cronjob = ROOT / "examples" / "pipelines" / "drift-cronjob.yaml"
    run = cli("validate", str(cronjob))
    assert run.code == 1
    issues = run.err.splitlines()[1:]
    assert len(issues) == 3  # ServiceAccount, ConfigMap, CronJob: one line each
    assert all("not a spec of this format" in line for line in issues)


def test_a_directory_of_only_other_yaml_is_an_error_naming_the_files(
    tmp_path: Path, cli: Cli
) -> None:
    (tmp_path / "workflow.yaml").write_text("on: push\njobs: {}\n")
    run = cli("validate", str(tmp_path))
    assert run.code == 1
    assert "no acr-reconcile spec here" in run.err and "workflow.yaml" in run.err


def test_a_spec_that_forgot_its_api_version_is_still_checked(tmp_path: Path, cli: Cli) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(VALID.replace("apiVersion: acr-reconcile/v1\n", ""))
    run = cli("validate", str(tmp_path))
    assert run.code == 1
    assert "required field 'apiVersion' is missing" in run.err
    assert "note: skipped" not in run.err


def _unknown(tmp_path: Path, cli: Cli, key: str) -> str:
    spec = tmp_path / f"{key}.yaml"
    spec.write_text(VALID + f"{key}: []\n")
    run = cli("validate", str(spec))
    assert run.code == 1
    return next(line for line in run.err.splitlines() if f"unknown field '{key}'" in line)


def test_did_you_mean_only_for_a_likely_typo(tmp_path: Path, cli: Cli) -> None:
    assert "did you mean" not in _unknown(tmp_path, cli, "stages")
    assert "did you mean" not in _unknown(tmp_path, cli, "trigger")
    assert "did you mean 'images'?" in _unknown(tmp_path, cli, "imagse")
    assert "did you mean 'signers'?" in _unknown(tmp_path, cli, "signer")
    assert "did you mean 'roleAssignments'?" in _unknown(tmp_path, cli, "roleassignments")


def test_a_tab_in_the_indentation_says_to_use_spaces(tmp_path: Path, cli: Cli) -> None:
    spec = tmp_path / "tabs.yaml"
    spec.write_text(VALID.replace("  name: registrydavid", "\tname: registrydavid"))
    run = cli("validate", str(spec))
    assert run.code == 1
    assert "YAML does not allow tabs for indentation: use spaces" in run.err
