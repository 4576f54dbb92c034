"""apply's evidence: the DCT inventory of a registry whose trust the plan disables in a
migration is written (to --dct-inventory FILE or the default name) before any change."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from planner_live import build_documents, build_live, build_rules

from acr_reconcile.apply.evidence import write_dct_evidence
from acr_reconcile.errors import ConfigError
from acr_reconcile.live.dct_file import read_inventory
from acr_reconcile.plan.planner import plan

A = "sha256:" + "a" * 64
NOTATION = {
    "signingKey": {
        "keyVault": {
            "name": "contoso-signing",
            "certificate": "release",
            "subject": "CN=release, O=Contoso, ST=WA, C=US",
        }
    }
}


def _case(trust_doc: str, served: str | None) -> dict[str, Any]:
    spec: dict[str, Any] = {"registry": {"contentTrust": trust_doc}}
    if trust_doc == "disabled":
        spec["notation"] = NOTATION
    return {
        "spec": spec,
        "live": {
            "resourceGroups": [{}],
            "registries": [
                {
                    "signerRoles": True,
                    "dct": {
                        "repositories": [
                            {"repository": "app", "signed": [{"tag": "v1", "digest": A}]}
                        ],
                        "served": [{"repository": "app", "tag": "v1", "digest": served}],
                    },
                }
            ],
        },
    }


def _run(case: dict[str, Any], destination: str | None, tmp_path: Path) -> list[Path]:
    docs = build_documents(case, "m.yaml")
    live = build_live(case, docs)
    result = plan(docs, live, build_rules(case))
    out = io.StringIO()
    written = list(write_dct_evidence(result, live, destination, date(2026, 12, 1), out))
    for path in written:
        assert f"to {path}" in out.getvalue()
    return written


def test_a_migration_that_disables_trust_writes_the_inventory_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    [path] = _run(_case("disabled", None), None, tmp_path)
    assert path == tmp_path / "dct-inventory-registrydavid-2026-12-01.json"
    inventory = read_inventory(path)
    assert inventory.entries == ()
    assert [(p.tag, p.kind.value) for p in inventory.problems] == [("v1", "gone")]


def test_the_file_named_on_the_command_line_is_used(tmp_path: Path) -> None:
    target = tmp_path / "evidence.json"
    assert _run(_case("disabled", None), str(target), tmp_path) == [target]
    assert read_inventory(target).registry == "registrydavid"


def test_a_migration_carrying_signatures_writes_them_as_evidence(tmp_path: Path) -> None:
    [path] = _run(_case("disabled", A), str(tmp_path / "x.json"), tmp_path)
    [entry] = read_inventory(path).entries
    assert (entry.repository, entry.tag, entry.digest, entry.role) == ("app", "v1", A, "targets")


def test_nothing_is_written_when_trust_stays(tmp_path: Path) -> None:
    assert _run(_case("enabled", A), str(tmp_path / "x.json"), tmp_path) == []
    assert not (tmp_path / "x.json").exists()


def test_one_file_name_for_several_registries_is_refused(tmp_path: Path) -> None:
    case = _case("disabled", None)
    second = {**case["spec"], "registry": {"name": "registryeve", "contentTrust": "disabled"}}
    case["spec"] = [case["spec"], second]
    case["live"]["registries"].append({**case["live"]["registries"][0], "name": "registryeve"})
    with pytest.raises(ConfigError, match="migrates 2 registries"):
        _run(case, str(tmp_path / "x.json"), tmp_path)
