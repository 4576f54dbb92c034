"""Saved plans: round trip, refusal of anything damaged or foreign, stale detection."""

from __future__ import annotations

import json
import stat
from datetime import datetime
from pathlib import Path

import pytest
from plan_fixtures import LEGACY, documents, empty_live, synced_live

from acr_reconcile import __version__
from acr_reconcile.errors import ConfigError
from acr_reconcile.plan.fingerprint import compare, live_fingerprints, live_observations
from acr_reconcile.plan.planfile import FILE_VERSION, is_plan_file, read_plan, write_plan
from acr_reconcile.plan.planner import plan


def _saved(tmp_path: Path) -> Path:
    docs = documents()
    path = tmp_path / "walkthrough.plan"
    write_plan(path, plan(docs, empty_live(), LEGACY), docs, meta={"output": "text"})
    return path


def test_round_trip_keeps_plan_documents_and_locations(tmp_path: Path) -> None:
    docs = documents()
    original = plan(docs, empty_live(), LEGACY)
    path = tmp_path / "p.plan"
    write_plan(path, original, docs, meta={"shard": "0/1"})
    saved = read_plan(path)
    assert saved.plan == original
    assert [d.spec for d in saved.documents] == [d.spec for d in docs]
    assert saved.documents[0].where("registry.contentTrust") == docs[0].where(
        "registry.contentTrust"
    )
    assert saved.meta == {"shard": "0/1"}
    assert saved.tool_version == __version__
    assert datetime.fromisoformat(saved.created_at).tzinfo is not None
    assert saved.documents_digest.startswith("sha256:")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert is_plan_file(path)


def test_documents_from_a_plan_file_fingerprint_like_the_originals(tmp_path: Path) -> None:
    """apply FILE re-reads live state for the saved documents: same keys, same hashes."""
    saved = read_plan(_saved(tmp_path))
    assert live_fingerprints(saved.documents, empty_live()) == saved.plan.fingerprints


def test_an_unchanged_world_is_not_stale(tmp_path: Path) -> None:
    saved = read_plan(_saved(tmp_path))
    fresh = live_fingerprints(saved.documents, empty_live())
    assert compare(saved.plan.fingerprints, fresh) == []


def test_first_plan_goes_stale_when_the_registry_appears(tmp_path: Path) -> None:
    """The very first plan (nothing existed) must be refused once someone else created it."""
    saved = read_plan(_saved(tmp_path))
    now = synced_live(saved.documents)
    explanations = compare(
        saved.plan.fingerprints,
        live_fingerprints(saved.documents, now),
        saved.plan.observed,
        live_observations(saved.documents, now),
    )
    sub = "00000000-0000-0000-0000-000000000000"
    assert f"registry {sub}/registrydavid now exists (it was absent when the plan was made)" in (
        explanations
    )
    assert (
        f"resource-group {sub}/resourcegroupdavid now exists (it was absent when the plan was made)"
        in explanations
    )


def test_stale_explains_the_attribute_that_moved(tmp_path: Path) -> None:
    docs = documents()
    path = tmp_path / "p.plan"
    write_plan(path, plan(docs, synced_live(docs), LEGACY), docs)
    saved = read_plan(path)
    now = synced_live(docs, admin=True)
    explanations = compare(
        saved.plan.fingerprints,
        live_fingerprints(saved.documents, now),
        saved.plan.observed,
        live_observations(saved.documents, now),
    )
    assert explanations == [
        "registry 00000000-0000-0000-0000-000000000000/registrydavid changed since the plan: "
        "adminUserEnabled false → true"
    ]


def test_not_json_is_a_clean_error(tmp_path: Path) -> None:
    path = tmp_path / "p.plan"
    path.write_bytes(b"\x00\xffnot json")
    with pytest.raises(ConfigError, match="not a plan file"):
        read_plan(path)
    assert not is_plan_file(path)


def test_foreign_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "terraform.json"
    path.write_text(json.dumps({"format_version": "1.2", "resource_changes": []}))
    with pytest.raises(ConfigError, match="not an acr-reconcile plan file"):
        read_plan(path)
    assert not is_plan_file(path)


def test_future_format_is_refused_with_advice(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    data = json.loads(path.read_text())
    data["version"] = FILE_VERSION + 1
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="newer than this tool reads"):
        read_plan(path)


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d["plan"].pop("changes"),
        lambda d: d["plan"]["changes"][0].update(action="explode"),
        lambda d: d.pop("documents"),
        lambda d: d["documents"][0]["spec"]["registry"].update(sku="Gold"),
        lambda d: d["documents"][0]["spec"]["registry"].update(adminUserEnabled=True),
    ],
    ids=["no-changes", "bad-action", "no-documents", "invalid-spec", "edited-spec"],
)
def test_damaged_files_are_clean_errors(tmp_path: Path, damage: object) -> None:
    path = _saved(tmp_path)
    data = json.loads(path.read_text())
    assert callable(damage)
    damage(data)
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="plan file is damaged"):
        read_plan(path)


def test_missing_file_is_a_clean_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the plan file"):
        read_plan(tmp_path / "absent.plan")
    assert not is_plan_file(tmp_path / "absent.plan")
