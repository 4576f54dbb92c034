"""The DCT inventory from readings given as data: what is carried over, what is reported."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from acr_reconcile.live.dct import (
    DctReading,
    InventoryEntry,
    ProblemKind,
    RepositoryDct,
    SignedEntry,
    dct_inventory,
)

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64
ROOT = "1" * 64
EXPIRES = datetime(2029, 1, 1, tzinfo=UTC)
READ = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)


def _repo(
    name: str, *entries: tuple[str, str, int, str], error: str | None = None
) -> RepositoryDct:
    signed = tuple(SignedEntry(t, d, s, r, EXPIRES) for t, d, s, r in entries)
    return RepositoryDct(name, f"reg.example/{name}", signed, None if error else ROOT, error)


def _reading(repos: list[RepositoryDct], manifests: dict) -> DctReading:  # type: ignore[type-arg]
    return DctReading("reg", "reg.example", READ, tuple(repos), manifests)


def test_every_role_is_carried_with_digest_size_role_expiry_and_root_key() -> None:
    reading = _reading(
        [
            _repo(
                "app",
                ("v1", A, 10, "targets"),
                ("v1", A, 10, "targets/releases"),
                ("v2", B, 20, "targets/team"),
            )
        ],
        {("app", "v1"): (A, 10), ("app", "v2"): (B, 20)},
    )
    inventory = dct_inventory(reading)
    assert inventory.problems == ()
    assert inventory.entries == (
        InventoryEntry("app", "v1", "targets", A, 10, EXPIRES, ROOT),
        InventoryEntry("app", "v1", "targets/releases", A, 10, EXPIRES, ROOT),
        InventoryEntry("app", "v2", "targets/team", B, 20, EXPIRES, ROOT),
    )
    assert inventory.digests() == {("app", A): ("v1",), ("app", B): ("v2",)}


@pytest.mark.parametrize(
    ("served", "kind"),
    [((B, 10), ProblemKind.MOVED), ((A, 11), ProblemKind.MOVED), (None, ProblemKind.GONE)],
)
def test_a_tag_moved_or_gone_since_signing_is_reported_never_trusted(
    served: tuple[str, int] | None, kind: ProblemKind
) -> None:
    reading = _reading(
        [_repo("app", ("v1", A, 10, "targets/releases"), ("v2", B, 20, "targets"))],
        {("app", "v1"): served, ("app", "v2"): (B, 20)},
    )
    inventory = dct_inventory(reading)
    assert [(e.tag, e.role) for e in inventory.entries] == [("v2", "targets")]
    [problem] = inventory.problems
    assert (problem.repository, problem.tag, problem.role, problem.kind) == (
        "app",
        "v1",
        "targets/releases",
        kind,
    )
    assert "reg.example/app:v1" in problem.message and A in problem.message


def test_a_role_moved_while_another_role_still_matches_keeps_only_the_match() -> None:
    reading = _reading(
        [_repo("app", ("v1", A, 10, "targets"), ("v1", B, 20, "targets/releases"))],
        {("app", "v1"): (B, 20)},
    )
    inventory = dct_inventory(reading)
    assert [(e.role, e.digest) for e in inventory.entries] == [("targets/releases", B)]
    assert [(p.role, p.kind) for p in inventory.problems] == [("targets", ProblemKind.MOVED)]


def test_invalid_trust_data_is_reported_and_nothing_of_it_is_trusted() -> None:
    reading = _reading(
        [
            _repo("bad", error="reg.example/bad: targets signature does not verify"),
            _repo("good", ("v1", A, 10, "targets")),
        ],
        {("good", "v1"): (A, 10)},
    )
    inventory = dct_inventory(reading)
    assert [e.repository for e in inventory.entries] == ["good"]
    [problem] = inventory.problems
    assert problem.kind is ProblemKind.INVALID and problem.repository == "bad"
    assert "signature does not verify" in problem.message


def test_a_repository_without_a_root_key_id_is_not_trusted() -> None:
    repo = RepositoryDct("app", "reg.example/app", (SignedEntry("v1", A, 10, "targets", EXPIRES),))
    inventory = dct_inventory(_reading([repo], {("app", "v1"): (A, 10)}))
    assert inventory.entries == ()
    assert [p.kind for p in inventory.problems] == [ProblemKind.INVALID]


def test_several_tags_on_one_digest_need_one_signature() -> None:
    reading = _reading(
        [_repo("app", ("latest", A, 10, "targets"), ("v1", A, 10, "targets"))],
        {("app", "latest"): (A, 10), ("app", "v1"): (A, 10)},
    )
    assert dct_inventory(reading).digests() == {("app", A): ("latest", "v1")}
