"""Renderers: key lines of the text form, the JSON document against its schema, markdown."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from plan_fixtures import (
    LEGACY,
    SECOND,
    TODAY,
    WALKTHROUGH,
    documents,
    empty_live,
    new_plan,
    synced_live,
    synced_plan,
)

from acr_reconcile.plan.codec import plan_from_dict, plan_to_dict
from acr_reconcile.plan.model import Kind, Plan
from acr_reconcile.plan.planner import plan
from acr_reconcile.plan.render import render_json, render_markdown, render_text

SCHEMA = json.loads(
    (Path(__file__).parents[3] / "docs" / "plan-json.schema.json").read_text(encoding="utf-8")
)
ANSI = "\x1b["


def _drift_plan() -> Plan:
    docs = documents()
    return plan(docs, synced_live(docs, admin=True), TODAY)


def _fleet_plan() -> Plan:
    docs = documents(WALKTHROUGH + "---\n" + SECOND)
    live = synced_live(docs[:1], admin=True)
    return plan(docs, live, LEGACY)


def _disable_plan() -> Plan:
    text = WALKTHROUGH.replace("contentTrust: enabled", "contentTrust: disabled")
    docs = documents(text.split("images:")[0])  # signing needs trust: no images here
    return plan(docs, synced_live(docs), TODAY)


def test_text_of_a_new_walkthrough_reads_like_terraform() -> None:
    text = render_text(new_plan())
    lines = text.splitlines()
    assert "  + resource group resourcegroupdavid (westeurope)  [missing]" in lines
    assert "  + registry registrydavid (Premium)  [missing]" in lines
    # the trust policy of a registry being created reads as one of its attributes
    assert '        + contentTrust = "enabled"' in lines
    assert not any("content trust on registrydavid" in line for line in lines)
    assert '        + sku = "Premium"' in lines
    assert not any("tags = {}" in line for line in lines)  # the spec leaves tags unset
    assert any(line.startswith("  + import hello-world:signed from docker.io") for line in lines)
    assert "  + sign hello-world:signed (absent, digest known after import)  [missing]" in lines
    assert "        + digest = (known after apply)" in lines
    assert lines[-1] == "Plan: 6 to add, 0 to change, 0 to destroy."
    assert ANSI not in text


def test_text_shows_drift_with_before_and_after() -> None:
    text = render_text(_drift_plan())
    assert "  ~ registry registrydavid (Premium)  [drift]" in text.splitlines()
    assert "        ~ adminUserEnabled: true → false" in text.splitlines()
    assert text.rstrip().endswith("Plan: 0 to add, 1 to change, 0 to destroy.")


def test_text_in_sync_says_no_changes_and_hides_no_ops_unless_asked() -> None:
    result = synced_plan()
    text = render_text(result)
    assert text.rstrip().endswith("No changes. Live state matches the spec.")
    assert "= registry" not in text
    verbose = render_text(result, show_unchanged=True)
    assert "  = registry registrydavid (Premium)  [in-sync]" in verbose.splitlines()
    assert "tag hello-world:signed (signed, sha256:abab" in verbose


def test_text_colour_only_when_asked() -> None:
    assert ANSI in render_text(_drift_plan(), color=True)
    assert ANSI not in render_text(_drift_plan(), color=False)


def test_text_diagnostics_carry_their_spec_location() -> None:
    text = render_text(plan(documents(), empty_live(), TODAY))
    assert "Error: Azure stopped allowing Docker Content Trust" in text
    assert "at walkthrough.yaml:8:17: registry.contentTrust" in text
    assert "Plan has 1 error(s); nothing can be applied." in text


def test_text_marks_trust_destruction() -> None:
    result = _disable_plan()
    assert result.destroys_trust
    text = render_text(result)
    assert "! deletes every signature in the registry, for good" in text
    assert "apply needs --allow-destroy-trust." in text


def test_text_fleet_ends_with_one_summary_table() -> None:
    text = render_text(_fleet_plan())
    table = text[text.index("Summary") :]
    assert text.count("Summary") == 1
    assert "registrydavid" in table and "drift" in table
    assert "registryalpha" in table and "pending" in table
    assert "Summary" not in render_text(_drift_plan())


def test_text_fleet_says_a_shared_warning_once() -> None:
    text = render_text(_fleet_plan())
    assert text.count("AcrImageSigner is deprecated by Azure") == 1
    assert text.count("signers.0.roles.0") == 2


@pytest.mark.parametrize(
    "make",
    [new_plan, synced_plan, _drift_plan, _fleet_plan, _disable_plan],
    ids=lambda f: f.__name__,
)
def test_json_validates_against_the_documented_schema(make: object) -> None:
    assert callable(make)
    result = make()
    document = json.loads(render_json(result))
    jsonschema.validate(document, SCHEMA)
    assert document["format_version"] == "1.4"
    assert plan_from_dict(document) == Plan(
        changes=result.changes,
        diagnostics=result.diagnostics,
        targets=result.targets,
        fingerprints=result.fingerprints,
        destroys_trust=result.destroys_trust,
    )


def test_json_summary_counts_and_flags() -> None:
    summary = json.loads(render_json(_drift_plan()))["summary"]
    assert summary == {
        "add": 0,
        "change": 1,
        "destroy": 0,
        "errors": 0,
        "warnings": 2,
        "has_changes": True,
        "drift": True,
        "destroys_trust": False,
        "folded": 0,
    }


@pytest.mark.parametrize("make", [new_plan, _fleet_plan], ids=["new registry", "fleet"])
def test_json_counts_what_the_text_plan_counts(make: object) -> None:
    """A new registry's trust policy is one of its attributes in text: the JSON summary
    and the per-document counts say the same numbers, and ``folded`` accounts for it."""
    import re

    assert callable(make)
    result = make()
    document = json.loads(render_json(result))
    found = re.search(
        r"Plan: (\d+) to add, (\d+) to change, (\d+) to destroy\.", render_text(result)
    )
    assert found, render_text(result)
    summary = document["summary"]
    assert [summary["add"], summary["change"], summary["destroy"]] == [
        int(n) for n in found.groups()
    ]
    trust = [
        c for c in document["changes"] if c["kind"] == "trust-policy" and c["action"] != "no-op"
    ]
    assert trust and summary["folded"] == 1  # the entry apply runs is still listed
    pending = [c for c in document["changes"] if c["action"] != "no-op"]
    assert summary["add"] + summary["change"] + summary["destroy"] + summary["folded"] == len(
        pending
    )
    assert sum(t["changes"] for t in document["targets"]) == sum(map(int, found.groups()))


def test_json_schema_rejects_what_the_contract_forbids() -> None:
    document = plan_to_dict(new_plan())
    document["changes"][0]["action"] = "replace"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, SCHEMA)
    document = plan_to_dict(new_plan())
    document["format_version"] = "2.0"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, SCHEMA)


def test_markdown_for_a_pull_request() -> None:
    text = render_markdown(_fleet_plan())
    assert text.startswith("### acr-reconcile plan\n")
    assert "**Plan: 3 to add, 1 to change, 0 to destroy.**" in text  # trust: with the registry
    assert text.count("<details>") == 2
    assert (
        "<summary><b>registrydavid</b> (resourcegroupdavid): drift, 1 change(s)</summary>" in text
    )
    assert "```diff\n! registry registrydavid (Premium)  [drift]" in text
    assert (
        "| registryalpha | resourcegroupdavid | 00000000-0000-0000-0000-000000000000 | pending |"
        in text
    )
    assert text.rstrip().splitlines()[-1].startswith("| registryalpha |")


def test_markdown_in_sync_and_destroy() -> None:
    assert "**No changes.** Live state matches the spec." in render_markdown(synced_plan())
    assert "<details>" not in render_markdown(synced_plan())
    assert "> [!CAUTION]" in render_markdown(_disable_plan())


def test_documented_example_follows_the_schema() -> None:
    doc = (Path(__file__).parents[3] / "docs" / "plan-json.md").read_text(encoding="utf-8")
    example = doc.split("```json\n", 1)[1].split("```", 1)[0]
    jsonschema.validate(json.loads(example), SCHEMA)


def test_markdown_stays_within_a_comment_and_says_what_it_left_out() -> None:
    fleet = _fleet_plan()
    full = render_markdown(fleet)
    small = render_markdown(fleet, max_chars=len(full) - 200)
    assert len(small) < len(full)
    assert small.count("<details>") == 1
    assert "_Details of 1 more registries are left out to fit a comment" in small
    assert "| registryalpha |" in small and "| registrydavid |" in small


def test_a_fleet_counts_a_shared_resource_group_once() -> None:
    """Two new registries in one new resource group: the rows add up to the plan line."""
    result = plan(documents(WALKTHROUGH + "---\n" + SECOND), empty_live(), LEGACY)
    groups = [c for c in result.pending if c.kind is Kind.RESOURCE_GROUP]
    assert len(groups) == 1  # one resource group, declared by both documents
    folded = [c for c in result.pending if c.kind is Kind.TRUST_POLICY]
    assert len(folded) == 2  # each new registry's trust policy counts with its registry
    assert sum(t.changes for t in result.targets) == len(result.pending) - len(folded)
    text = render_text(result)
    closing = next(line for line in text.splitlines() if line.startswith("Plan: "))
    numbers = [int(word) for word in closing.split() if word.isdigit()]
    table = text[text.index("Summary") :]
    lines = [line.split("|") for line in table.splitlines() if "|" in line]
    column = [cell.strip() for cell in lines[0]].index("changes")
    shown = [int(row[column]) for row in lines[1:] if "registry" in row[0]]
    assert len(shown) == 2
    assert sum(shown) == sum(numbers) == sum(t.changes for t in result.targets), text
    markdown = render_markdown(result)
    cells = [line.split("|") for line in markdown.splitlines() if line.startswith("| registry")]
    assert sum(int(c[5]) + int(c[6]) + int(c[7]) for c in cells) == sum(numbers)
