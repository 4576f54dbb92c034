"""Fingerprints of live reads and of the desired state."""

from __future__ import annotations

from dataclasses import replace

from plan_fixtures import DIGEST, SUB, WALKTHROUGH, documents, empty_live, synced_live

from acr_reconcile.live import state as s
from acr_reconcile.plan.fingerprint import (
    compare,
    desired_fingerprint,
    live_fingerprints,
    live_observations,
)

REG = f"{SUB}/registrydavid"


def _with_data(live: s.LiveState, **changes: object) -> s.LiveState:
    key = (SUB, "registrydavid")
    data = live.registries[key]
    assert data is not None
    return replace(live, registries={key: replace(data, **changes)})


def test_desired_fingerprint_is_short_stable_and_follows_the_spec() -> None:
    first = desired_fingerprint(documents()[0])
    assert first == desired_fingerprint(documents()[0])
    assert len(first) == 16 and int(first, 16) >= 0
    changed = documents(WALKTHROUGH.replace("adminUserEnabled: false", "adminUserEnabled: true"))
    assert desired_fingerprint(changed[0]) != first


def test_absent_objects_are_fingerprinted() -> None:
    prints = live_fingerprints(documents(), empty_live())
    assert f"registry {REG}" in prints
    assert f"resource-group {SUB}/resourcegroupdavid" in prints
    assert live_observations(documents(), empty_live())[f"registry {REG}"] == {
        "exists": False,
        "nameAvailable": None,
    }


def test_every_read_the_plan_used_has_a_key() -> None:
    docs = documents()
    keys = set(live_fingerprints(docs, synced_live(docs)))
    assert keys == {
        f"resource-group {SUB}/resourcegroupdavid",
        f"registry {REG}",
        f"role-assignments {REG}",
        f"tag {REG}/hello-world:signed",
        f"trust {REG}/hello-world",
        "principal appId:11111111-1111-1111-1111-111111111111",
    }


def test_role_assignment_set_changes_are_detected() -> None:
    docs = documents()
    live = synced_live(docs)
    data = live.registries[(SUB, "registrydavid")]
    assert data is not None
    fewer = _with_data(live, role_assignments=data.role_assignments[:1])
    before, after = live_fingerprints(docs, live), live_fingerprints(docs, fewer)
    moved = [k for k in before if before[k] != after[k]]
    assert moved == [f"role-assignments {REG}"]
    explanation = compare(
        before, after, live_observations(docs, live), live_observations(docs, fewer)
    )
    assert explanation[0].startswith(
        f"role-assignments {REG} changed since the plan: assignments.1"
    )


def test_tag_digest_and_trust_versions_are_detected() -> None:
    docs = documents()
    live = synced_live(docs)
    data = live.registries[(SUB, "registrydavid")]
    assert data is not None
    tag = data.tags[("hello-world", "signed")]
    pushed = _with_data(
        live, tags={("hello-world", "signed"): replace(tag, digest="sha256:" + "cd" * 32)}
    )
    explanation = compare(
        live_fingerprints(docs, live),
        live_fingerprints(docs, pushed),
        live_observations(docs, live),
        live_observations(docs, pushed),
    )
    assert explanation == [
        f"tag {REG}/hello-world:signed changed since the plan: "
        f'digest "{DIGEST}" → "sha256:{"cd" * 32}"'
    ]
    repo = data.repositories["hello-world"]
    republished = _with_data(
        live,
        repositories={"hello-world": replace(repo, versions={**repo.versions, "timestamp": 10})},
    )
    explanation = compare(
        live_fingerprints(docs, live),
        live_fingerprints(docs, republished),
        live_observations(docs, live),
        live_observations(docs, republished),
    )
    assert explanation == [
        f"trust {REG}/hello-world changed since the plan: versions.timestamp 9 → 10"
    ]


def test_compare_without_observations_still_names_the_object() -> None:
    assert compare({"registry x": "sha256:1"}, {"registry x": "sha256:2"}) == [
        "registry x changed since the plan"
    ]
    assert compare({"registry x": "sha256:1"}, {}) == [
        "registry x was not read again (the plan no longer depends on it)"
    ]
