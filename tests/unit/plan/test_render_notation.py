"""Every output format shows the Notary Project signature changes and findings (1.2)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from acr_reconcile.plan.codec import plan_from_dict
from acr_reconcile.plan.model import Plan
from acr_reconcile.plan.planner import plan
from acr_reconcile.plan.render import render_json, render_markdown, render_text
from acr_reconcile.plan.render_github import render_github

PLANNER = Path(__file__).parents[1] / "planner"
sys.path.insert(0, str(PLANNER))
from planner_live import build_documents, build_live, build_rules  # noqa: E402

SCHEMA = json.loads((Path(__file__).parents[3] / "docs" / "plan-json.schema.json").read_text())


def _plan(case_name: str) -> Plan:
    case: dict[str, Any] = yaml.safe_load((PLANNER / "cases" / case_name).read_text())
    docs = build_documents(case, case_name)
    return plan(docs, build_live(case, docs), build_rules(case))


def _formats(made: Plan) -> tuple[str, str, str]:
    text = render_text(made, color=False, diagnostics=True)  # as in a log: lines whole
    return text, render_markdown(made), render_github(made)


def test_a_signature_to_make_shows_in_every_format() -> None:
    made = _plan("notation-key-vault-signer.yaml")
    wanted = (
        "+ notation signature hello-world:signed (sha256:111111111111…, cose, "
        "CN=release, O=Contoso, ST=WA, C=US)"
    )
    text, markdown, github = _formats(made)
    assert wanted in text
    for shown in (markdown, github):
        assert wanted[2:] in shown
    document = json.loads(render_json(made))
    jsonschema.validate(document, SCHEMA)
    assert document["format_version"] == "1.4"
    (signature,) = [c for c in document["changes"] if c["kind"] == "notation-signature"]
    assert signature["params"]["key_vault"] == "contoso-signing"
    assert signature["params"]["signature_format"] == "cose"
    assert plan_from_dict(document).changes == made.changes


def test_a_signature_to_delete_is_shown_destructive() -> None:
    made = _plan("notation-sign-false-trusted-deleted.yaml")
    text, markdown, github = _formats(made)
    line = next(x for x in text.splitlines() if "remove trusted notation signature" in x)
    assert line.lstrip().startswith("- ")
    assert "1 to destroy" in text
    for shown in (markdown, github):
        assert "remove trusted notation signature sha256:aaaa11111111…" in shown
    document = json.loads(render_json(made))
    jsonschema.validate(document, SCHEMA)
    assert document["summary"]["destroy"] == 1 and document["summary"]["drift"] is True
    assert plan_from_dict(document).changes == made.changes


def test_an_invalid_signature_is_an_error_in_every_format() -> None:
    made = _plan("notation-invalid-signature-is-error.yaml")
    text, markdown, github = _formats(made)
    for shown in (text, markdown):
        assert "the signature does not verify" in shown
    assert "::error" in github and "the signature does not verify" in github
    document = json.loads(render_json(made))
    jsonschema.validate(document, SCHEMA)
    rules = {d["details"]["rule"] for d in document["diagnostics"]}
    assert "notation-signature-invalid" in rules
