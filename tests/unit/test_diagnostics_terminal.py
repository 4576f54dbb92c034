"""Findings as a terminal user reads them: FILE:LINE first with the spec line under it,
the resource after; a fleet's shared warning said once ("and 12 more registries"); the
plan, the table and the findings fit the terminal, 80 columns included (through a pty)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from acr_reconcile.errors import Diagnostic
from acr_reconcile.plan.planfile import write_plan
from acr_reconcile.plan.planner import plan
from acr_reconcile.plan.render_diagnostics import file_lines, render_diagnostics
from acr_reconcile.spec.loader import load_text
from tests.support.terminal import ANSI, run_on_terminal
from tests.unit.plan.plan_fixtures import LEGACY, SUB, WALKTHROUGH, empty_live

RID = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/"


def _warning(file: str, name: str, line: int = 8) -> Diagnostic:
    return Diagnostic(
        "warning",
        RID + name,
        "Azure removes Docker Content Trust on 2028-03-31 (in 800 days); plan the move",
        f"{file}:{line}:17: registry.contentTrust",
        {"rule": "content-trust-retirement"},
    )


def test_location_first_then_the_spec_line_then_the_resource(tmp_path: Path) -> None:
    spec = tmp_path / "a.yaml"
    spec.write_text(WALKTHROUGH)
    assert WALKTHROUGH.splitlines()[7] == "  contentTrust: enabled"
    lines = render_diagnostics([_warning(str(spec), "one")], source=file_lines()).splitlines()
    assert lines[0].startswith(f"{spec}:8:17: warning: Azure removes Docker Content Trust")
    assert lines[1] == "    8 |   contentTrust: enabled"
    assert lines[2] == "      |                 ^"  # under column 17
    assert lines[3] == "  field registry.contentTrust"
    assert lines[4] == f"  on {RID}one"


def test_a_warning_the_fleet_shares_is_said_once_with_a_count() -> None:
    shared = [_warning(f"fleet/r{i:02}.yaml", f"r{i:02}") for i in range(13)]
    text = render_diagnostics(shared)
    assert text.count("Azure removes Docker Content Trust") == 1
    assert (
        "  and 12 more registries: fleet/r01.yaml:8:17, fleet/r02.yaml:8:17, "
        "fleet/r03.yaml:8:17 and 9 more"
    ) in text.splitlines()


def test_errors_are_never_merged() -> None:
    errors = [
        Diagnostic("error", RID + name, "content trust needs Premium", f"{name}.yaml:9:3: x", {})
        for name in ("a", "b")
    ]
    text = render_diagnostics(errors)
    assert text.count("content trust needs Premium") == 2 and "more registries" not in text


def test_without_a_terminal_a_finding_stays_on_one_line() -> None:
    text = render_diagnostics([_warning("a.yaml", "x" * 60)])
    assert text.splitlines()[0].endswith("plan the move")


@pytest.mark.parametrize("width", [60, 80])
def test_with_a_width_every_line_fits(width: int) -> None:
    text = render_diagnostics([_warning("a.yaml", "r" * 30)] * 2, width=width)
    assert all(len(line) <= width for line in text.splitlines()), text


def _fleet_plan(tmp_path: Path, registries: int) -> Path:
    body = WALKTHROUGH.split("images:")[0]
    text = "---\n".join(
        body.replace("name: registrydavid", f"name: registryfleetmember{i:02}")
        for i in range(registries)
    )
    spec = tmp_path / "fleet.yaml"
    spec.write_text(text)
    docs = load_text(text, "fleet.yaml")  # as given on the command line, run in tmp_path
    saved = tmp_path / "fleet.plan"
    write_plan(saved, plan(docs, empty_live(), LEGACY), docs)
    return saved


@pytest.mark.parametrize("columns", [80, 160])
def test_a_fleet_plan_fits_the_terminal_through_a_pty(tmp_path: Path, columns: int) -> None:
    saved = _fleet_plan(tmp_path, 13)
    env = os.environ | {"NO_COLOR": "1"}
    run = run_on_terminal(["show", str(saved)], columns=columns, env=env, cwd=tmp_path)
    assert run.code == 0, run.screen
    assert ANSI not in run.screen  # NO_COLOR on a terminal
    table = run.lines[run.lines.index("Summary") :]
    rows = [line for line in table if " | " in line and "registryfleetmember" in line]
    assert len(rows) == 13, "\n".join(table)  # one line each: names are not folded
    for line in run.lines:  # the change lines, the findings and the table
        assert len(line) <= columns, f"{len(line)} > {columns}: {line!r}"
    if columns == 80:  # a role line is longer than 80: folded under its change, not cut
        folded = [n for n, line in enumerate(run.lines) if line.startswith("  + role ")]
        assert folded and all(run.lines[n + 1].startswith("      ") for n in folded)
        assert any("registryfleetmember00" in run.lines[n + 1] for n in folded)
    flowing = " ".join(run.screen.split())  # wrapped lines read as one text
    assert flowing.count("AcrImageSigner is deprecated by Azure") == 1
    assert "and 12 more registries" in flowing
    assert "fleet.yaml:14:13: warning:" in run.screen
    assert "   14 |     roles: [AcrImageSigner, AcrPush]" in run.screen  # the spec line


def test_colour_on_a_terminal_unless_no_color(tmp_path: Path) -> None:
    saved = _fleet_plan(tmp_path, 2)
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    coloured = run_on_terminal(["show", str(saved)], columns=100, env=env)
    assert coloured.code == 0 and ANSI in coloured.screen


def test_columns_wins_over_the_terminal_size(tmp_path: Path) -> None:
    """A user who exports COLUMNS gets lines of that width, as with every other tool."""
    saved = _fleet_plan(tmp_path, 2)
    env = os.environ | {"NO_COLOR": "1"}
    run = run_on_terminal(
        ["show", str(saved)], columns=160, columns_variable=60, env=env, cwd=tmp_path
    )
    assert run.code == 0, run.screen
    assert max(len(line) for line in run.lines) <= 60, run.screen
    assert any(len(line) > 50 for line in run.lines)  # folded to 60, not to something less


def test_a_pipe_keeps_one_line_per_change_whatever_columns_says(tmp_path: Path) -> None:
    """Piped (a CI log, grep, a file) nothing is folded, COLUMNS or not: each change and
    each finding is one line a log search finds whole."""
    import subprocess
    import sys

    saved = _fleet_plan(tmp_path, 2)
    env = os.environ | {"NO_COLOR": "1", "COLUMNS": "60"}
    done = subprocess.run(
        [sys.executable, "-m", "acr_reconcile", "show", str(saved)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    roles = [line for line in done.stdout.splitlines() if line.startswith("  + role ")]
    assert roles and all(len(line) > 60 and line.endswith("[missing]") for line in roles)
    findings = [line for line in done.stderr.splitlines() if ": warning: " in line]
    assert findings and any(len(line) > 60 for line in findings)


def test_spec_errors_fit_the_terminal_and_stay_whole_in_a_pipe(tmp_path: Path) -> None:
    """validate's errors, FILE:LINE:COL first: folded on a 60-column terminal, whole lines
    in a pipe (where a grep for the file finds each)."""
    import subprocess
    import sys

    folder = tmp_path / "registries-of-the-platform-team-in-west-europe"
    folder.mkdir()
    spec = folder / "production.yaml"
    spec.write_text(WALKTHROUGH.replace("sku: Premium", "sku: Premiumm"))
    env = os.environ | {"NO_COLOR": "1"}
    run = run_on_terminal(["validate", str(spec)], columns=60, env=env)
    assert run.code == 1, run.screen
    import re

    screen = re.sub(r"\x1b\[[0-9;]*m", "", run.screen)  # NO_COLOR keeps bold
    assert all(len(line) <= 60 for line in screen.splitlines()), screen
    flowing = "".join(screen.split())
    assert f"{spec}:".replace(" ", "") in flowing and "registry.sku" in flowing
    piped = subprocess.run(
        [sys.executable, "-m", "acr_reconcile", "validate", str(spec)],
        capture_output=True,
        text=True,
        env=env | {"COLUMNS": "60"},
        timeout=120,
        check=False,
    )
    whole = [line for line in piped.stderr.splitlines() if line.startswith(f"{spec}:")]
    assert piped.returncode == 1 and whole and "registry.sku" in whole[0], piped.stderr
