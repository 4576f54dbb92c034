"""Every output format shows the Key Vault changes and findings (format_version 1.1)."""

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


def test_creates_show_in_every_format() -> None:
    made = _plan("keyvault-creates-vault-certificate-and-roles.yaml")
    text = render_text(made, color=False, diagnostics=True, width=200)
    markdown = render_markdown(made)
    github = render_github(made)
    for shown in (text, markdown, github):
        assert "key vault contoso-signing (RBAC authorization)" in shown
        assert "signing certificate release" in shown
        assert "Key Vault Crypto User for the identity running apply" in shown
    document = json.loads(render_json(made))
    jsonschema.validate(document, SCHEMA)
    assert document["format_version"] == "1.4"
    kinds = [c["kind"] for c in document["changes"] if c["action"] == "create"]
    assert kinds[0] == "key-vault" and kinds[-1] == "signing-certificate"
    assert plan_from_dict(document).changes == made.changes


def test_findings_show_in_every_format() -> None:
    made = _plan("keyvault-certificate-subject-differs.yaml")
    text = render_text(made, color=False, diagnostics=True, width=200)
    github = render_github(made)
    document = json.loads(render_json(made))
    jsonschema.validate(document, SCHEMA)
    rules = {d["details"]["rule"] for d in document["diagnostics"]}
    assert "keyvault-certificate-subject-differs" in rules
    for shown in (text, render_markdown(made)):
        assert "never replaced" in shown
    assert "::error" in github and "never replaced" in github
