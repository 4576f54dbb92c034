"""The command line around plan and apply, as a new user meets it: flags that mean nothing
alone, saved plans given where specs belong, `show`, apply's counts and JSON events, and
output piped into `head`. Offline: nothing here needs Azure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from acr_reconcile.apply.executor import ActionResult, ApplyResult, Status, execute
from acr_reconcile.apply.readiness import apply_blockers, require_ready
from acr_reconcile.apply.report import JsonProgress, outcome, planned_events
from acr_reconcile.cli import main
from acr_reconcile.errors import Diagnostic, SigningKeyError
from acr_reconcile.plan.model import Action, Change, Kind, Plan, Reason
from acr_reconcile.plan.planfile import write_plan
from acr_reconcile.plan.planner import plan as make_plan
from tests.support.changes import params_for
from tests.unit.plan.plan_fixtures import LEGACY, documents, empty_live


def _saved(tmp_path: Path) -> Path:
    docs = documents()
    path = tmp_path / "plan.json"
    write_plan(path, make_plan(docs, empty_live(), LEGACY), docs)
    return path


def test_fail_on_without_detailed_exitcode_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["plan", str(tmp_path), "--fail-on", "drift"]) == 1
    err = capsys.readouterr().err
    assert "--fail-on drift" in err and "--detailed-exitcode" in err


@pytest.mark.parametrize(
    ("argv", "fix"),
    [(["plan", "{p}"], "acr-reconcile show {p}"), (["apply", "{p}", "{spec}"], "apply it alone")],
)
def test_a_saved_plan_where_a_spec_belongs_is_named_as_such(
    argv: list[str], fix: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    saved = _saved(tmp_path)
    spec = tmp_path / "spec.yaml"
    spec.write_text("apiVersion: acr-reconcile/v1\n")
    words = [a.format(p=saved, spec=spec) for a in argv]
    assert main(words) == 1
    err = capsys.readouterr().err
    assert f"{saved}: this is a saved plan, not a spec" in err
    assert fix.format(p=saved) in err
    assert "problem(s) in the spec input" not in err


def test_show_renders_a_saved_plan_as_text_json_and_markdown(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    saved = _saved(tmp_path)
    assert main(["show", str(saved)]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"Saved plan {saved}, made ")
    assert "registrydavid" in text
    assert "Plan: " in text and "to add" in text
    assert main(["show", str(saved), "--output", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["format_version"] and document["changes"]
    assert main(["show", str(saved), "--output", "markdown"]) == 0
    assert "registrydavid" in capsys.readouterr().out


def test_show_refuses_what_is_not_a_saved_plan(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("apiVersion: acr-reconcile/v1\n")
    assert main(["show", str(spec)]) == 1
    assert "not a saved plan" in capsys.readouterr().err
    assert main(["show", str(tmp_path / "absent.json")]) == 1
    assert "no such plan file" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["schema"], ["plan", "--help"], ["show", "{p}"]])
def test_output_into_a_closed_pipe_is_no_traceback(argv: list[str], tmp_path: Path) -> None:
    """`acr-reconcile ... | head`: the reader is gone before the tool writes."""
    words = [a.format(p=_saved(tmp_path)) for a in argv]
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write to the pipe now fails with EPIPE
    try:
        done = subprocess.run(
            [sys.executable, "-m", "acr_reconcile", *words],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ | {"NO_COLOR": "1"},
        )
    finally:
        os.close(write_end)
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr
    assert done.returncode in (0, 141)


def _change(address: str, action: Action, kind: Kind = Kind.TAG_SIGNATURE) -> Change:
    return Change(
        address,
        kind,
        action,
        Reason.MISSING,
        f"/r/{address}",
        f"do {address}",
        params=params_for(kind),
    )


def test_apply_counts_what_the_plan_counted_not_units_of_work() -> None:
    """Eight signatures in one repository are one trust publish, and 8 added."""
    changes = [_change(f"tag-signature:s/r/repo:t{i}", Action.CREATE) for i in range(8)]
    changes.append(_change("registry:s/r", Action.UPDATE, Kind.REGISTRY))
    plan = Plan(changes=tuple(changes))

    def run(unit: Sequence[Change]) -> str:
        return "ok"

    def group(change: Change) -> str | None:
        return "repo" if change.kind is Kind.TAG_SIGNATURE else None

    result = execute(plan, run, group=group)
    assert len(result.results) == 2  # two units of work ...
    counted = outcome(plan, result)
    assert counted.line() == "8 added, 1 changed, 0 destroyed"  # ... nine changes


def test_failed_and_skipped_changes_are_counted_apart() -> None:
    a, b = _change("a", Action.CREATE), _change("b", Action.DELETE)
    plan = Plan(changes=(a, b))
    result = ApplyResult(
        (
            ActionResult("a", Status.FAILED, "refused", 0.1, ("a",)),
            ActionResult("b", Status.SKIPPED, "upstream failed: a", 0.0, ("b",)),
        )
    )
    assert outcome(plan, result).line() == "0 added, 0 changed, 0 destroyed; 1 failed, 1 skipped"


def test_json_events_are_one_object_per_line_per_change(
    capsys: pytest.CaptureFixture[str],
) -> None:
    a, b = _change("sig:a", Action.CREATE), _change("sig:b", Action.CREATE)
    c = _change("rg", Action.CREATE, Kind.RESOURCE_GROUP)
    plan = Plan(changes=(c, a, b))
    events = JsonProgress(sys.stdout)

    def run(unit: Sequence[Change]) -> str:
        if unit[0].kind is Kind.RESOURCE_GROUP:
            return "created"
        raise SigningKeyError("no key")

    result = execute(
        plan,
        run,
        parallelism=1,
        group=lambda ch: "g" if ch.address != "rg" else None,
        progress=events,
    )
    events.summary(outcome(plan, result))
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    kinds = [(e["type"], e.get("change", {}).get("address")) for e in lines]
    assert kinds == [
        ("apply_start", "rg"),
        ("apply_complete", "rg"),
        ("apply_start", "sig:a"),
        ("apply_start", "sig:b"),
        ("apply_errored", "sig:a"),
        ("apply_errored", "sig:b"),
        ("change_summary", None),
    ]
    assert lines[4]["error"] == "no key"
    assert lines[-1]["changes"] == {"add": 1, "change": 0, "remove": 0, "failed": 2, "skipped": 0}


def test_planned_events_carry_findings_and_pending_changes_only() -> None:
    noop = Change(
        "n",
        Kind.REGISTRY,
        Action.NOOP,
        Reason.IN_SYNC,
        "/r/n",
        "keep n",
        params=params_for(Kind.REGISTRY),
    )
    warning = Diagnostic("warning", "/r", "careful", "f.yaml:1:1: images", {"rule": "x"})
    plan = Plan(changes=(noop, _change("a", Action.CREATE)), diagnostics=(warning,))
    events = planned_events(plan)
    assert [e["type"] for e in events] == ["diagnostic", "planned_change"]
    assert events[1]["change"]["address"] == "a"


def test_apply_refuses_before_any_write_when_signing_material_is_missing() -> None:
    gap = Diagnostic(
        "warning",
        "/r",
        "signing is planned and this run lacks the repository key passphrase",
        "spec.yaml:20:3: images",
        {"rule": "signing-keys-missing", "blocks": "apply"},
    )
    other = Diagnostic("warning", "/r", "DCT goes away", None, {"rule": "content-trust-retirement"})
    plan = Plan(changes=(), diagnostics=(gap, other))
    assert apply_blockers(plan) == [gap]
    with pytest.raises(SigningKeyError) as raised:
        require_ready(plan)
    message = str(raised.value)
    assert "apply cannot start" in message and "spec.yaml:20:3: images" in message
    assert "nothing was changed" in message and "DCT goes away" not in message
    require_ready(Plan(changes=(), diagnostics=(other,)))  # warnings alone do not block


def test_export_subscription_comes_from_the_flag_or_the_environment() -> None:
    from acr_reconcile.commands.export import subscription_of
    from acr_reconcile.errors import ConfigError

    guid = "0A1B2C3D-0000-0000-0000-000000000000"
    assert subscription_of(guid, {}) == guid.lower()
    assert subscription_of(None, {"AZURE_SUBSCRIPTION_ID": guid}) == guid.lower()
    assert subscription_of(guid, {"AZURE_SUBSCRIPTION_ID": "other"}) == guid.lower()
    with pytest.raises(ConfigError, match="pass --subscription or set AZURE_SUBSCRIPTION_ID"):
        subscription_of(None, {})
    with pytest.raises(ConfigError, match="--subscription 'prod' is not a subscription id"):
        subscription_of("prod", {"AZURE_SUBSCRIPTION_ID": guid})
