"""GitHub annotations land on the spec line of the field concerned, safely escaped."""

from __future__ import annotations

from acr_reconcile.errors import Diagnostic
from acr_reconcile.plan.model import Action, AttributeChange, Change, Kind, Plan, Reason
from acr_reconcile.plan.render_github import render_github
from tests.support.changes import params_for


def _change(reason: Reason, location: str | None) -> Change:
    return Change(
        address="registry:sub/registrydavid",
        kind=Kind.REGISTRY,
        action=Action.UPDATE,
        reason=reason,
        resource_id="/subscriptions/sub/resourceGroups/rg/providers/x/registries/registrydavid",
        summary="update registry registrydavid",
        diff=(AttributeChange("adminUserEnabled", True, False),),
        spec_location=location,
        params=params_for(Kind.REGISTRY),
    )


def test_drift_is_a_warning_on_the_spec_line() -> None:
    plan = Plan(changes=(_change(Reason.DRIFT, "specs/a.yaml:7:22: registry.adminUserEnabled"),))
    first = render_github(plan).splitlines()[0]
    assert first.startswith("::warning file=specs/a.yaml,line=7,col=22,title=")
    assert "adminUserEnabled: true → false" in first  # YAML, not Python reprs
    assert "True" not in first and "None" not in first
    assert "[drift]" in first


def test_pending_spec_change_is_a_notice_and_summary_counts_drift() -> None:
    plan = Plan(changes=(_change(Reason.SPEC_CHANGED, "a.yaml:1:1: registry"),))
    lines = render_github(plan).splitlines()
    assert lines[0].startswith("::notice file=a.yaml,line=1,col=1,")
    assert lines[-1] == "acr-reconcile: 1 change(s) pending, 0 of them drift"


def test_errors_annotate_and_messages_are_escaped() -> None:
    diagnostic = Diagnostic(
        "error", "registry registrydavid", "100% refused\nsecond line", "x,y.yaml:3:5: registry"
    )
    plan = Plan(changes=(), diagnostics=(diagnostic,))
    lines = render_github(plan).splitlines()
    assert lines[0] == (
        "::error file=x%2Cy.yaml,line=3,col=5,title=registry registrydavid"
        "::100%25 refused%0Asecond line"
    )
    assert lines[-1] == "acr-reconcile: 1 error(s); nothing can be applied"


def test_in_sync_plan_says_so_and_a_change_without_location_has_no_file() -> None:
    assert render_github(Plan(changes=())).strip().endswith("live state matches the spec")
    line = render_github(Plan(changes=(_change(Reason.DRIFT, None),))).splitlines()[0]
    assert line.startswith("::warning title=") and "file=" not in line
