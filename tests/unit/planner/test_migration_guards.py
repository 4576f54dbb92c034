"""The guards of a migration's trust disable, without Azure: the ledger apply keeps
(inventory written, every carried signature verified) and the trust-policy handler that
refuses before any read or write without it; and the saved plan's fingerprints, which
move when DCT's trust data or a carried signature does."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from planner_live import SUB, build_documents, build_live, build_rules

from acr_reconcile.apply.context import ApplyContext
from acr_reconcile.apply.evidence import write_dct_evidence
from acr_reconcile.apply.handlers import trust_policy
from acr_reconcile.apply.migration import MigrationLedger
from acr_reconcile.errors import ConfigError
from acr_reconcile.plan.fingerprint import compare, live_fingerprints, live_observations
from acr_reconcile.plan.model import Kind
from acr_reconcile.plan.planner import plan

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64
NOTATION = {
    "signingKey": {
        "keyVault": {
            "name": "contoso-signing",
            "certificate": "release",
            "subject": "CN=release, O=Contoso, ST=WA, C=US",
        }
    }
}


def _case(digest: str = A, carried: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "spec": {"registry": {"contentTrust": "disabled"}, "notation": NOTATION},
        "live": {
            "resourceGroups": [{}],
            "registries": [
                {
                    "signerRoles": True,
                    "dct": {
                        "repositories": [
                            {"repository": "app", "signed": [{"tag": "v1", "digest": digest}]}
                        ]
                    },
                    "carried": carried or [],
                }
            ],
        },
    }


class _Untouchable:
    """A session that fails the test on any use: the refusal must come before Azure."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the handler used the session ({name}) before refusing")


def _disable(case: dict[str, Any]) -> Any:
    docs = build_documents(case, "m.yaml")
    result = plan(docs, build_live(case, docs), build_rules(case))
    return next(c for c in result.pending if c.kind is Kind.TRUST_POLICY)


def _context(ledger: MigrationLedger) -> ApplyContext:
    return ApplyContext(session=_Untouchable(), allow_destroy_trust=True, migration=ledger)  # type: ignore[arg-type]


def test_the_disable_refuses_without_the_inventory_written() -> None:
    change = _disable(_case())
    assert change.params.migration is True
    with pytest.raises(ConfigError, match="did not write the DCT inventory"):
        trust_policy.apply([change], _context(MigrationLedger()))


def test_the_disable_refuses_when_the_inventory_was_written_but_not_verified(
    tmp_path: Path,
) -> None:
    case = _case()
    docs = build_documents(case, "m.yaml")
    live = build_live(case, docs)
    result = plan(docs, live, build_rules(case))
    ledger = MigrationLedger()
    write_dct_evidence(
        result, live, str(tmp_path / "i.json"), date(2026, 12, 1), io.StringIO(), ledger
    )
    assert ledger.inventory(SUB, "registrydavid") is not None
    change = next(c for c in result.pending if c.kind is Kind.TRUST_POLICY)
    with pytest.raises(ConfigError, match="did not verify every signature"):
        trust_policy.apply([change], _context(ledger))
    ledger.verified(SUB, "RegistryDavid")  # the registry's key is case-insensitive
    assert ledger.refusal(SUB, "registrydavid") is None


def test_the_disable_depends_on_the_verification_which_depends_on_the_signatures() -> None:
    case = _case()
    docs = build_documents(case, "m.yaml")
    result = plan(docs, build_live(case, docs), build_rules(case))
    kinds = [c.kind for c in result.pending]
    signature = next(c for c in result.pending if c.kind is Kind.NOTATION_SIGNATURE)
    check = next(c for c in result.pending if c.kind is Kind.SIGNATURE_VERIFICATION)
    disable = next(c for c in result.pending if c.kind is Kind.TRUST_POLICY)
    assert signature.address in check.depends_on and check.address in disable.depends_on
    assert (
        kinds.index(Kind.NOTATION_SIGNATURE)
        < kinds.index(Kind.SIGNATURE_VERIFICATION)
        < kinds.index(Kind.TRUST_POLICY)
    )


def _stale(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    docs = build_documents(before, "m.yaml")
    old, new = build_live(before, docs), build_live(after, docs)
    return compare(
        live_fingerprints(docs, old),
        live_fingerprints(docs, new),
        live_observations(docs, old),
        live_observations(docs, new),
    )


def test_a_saved_migration_plan_is_stale_once_dct_signs_something_else() -> None:
    assert _stale(_case(), _case()) == []
    moved = _stale(_case(), _case(digest=B))
    assert any(m.startswith("dct ") and B in m for m in moved), moved


def test_a_saved_migration_plan_is_stale_once_a_carried_signature_appears() -> None:
    signed = [{"repository": "app", "digest": A, "signatures": [{"digest": B}]}]
    found = _stale(_case(), _case(carried=signed))
    assert any(m.startswith("carried-signatures ") for m in found), found
