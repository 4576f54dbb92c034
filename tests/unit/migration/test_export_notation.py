"""export --to notation: the migration document of a DCT registry validates and plans as a
migration; the signing key options are all given or refused."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from acr_reconcile.cli import main
from acr_reconcile.commands.export import signing_key_of
from acr_reconcile.errors import ConfigError
from acr_reconcile.live import state as s
from acr_reconcile.live.dct import (
    DctInventory,
    DctReading,
    InventoryEntry,
    RepositoryDct,
    SignedEntry,
    dct_inventory,
)
from acr_reconcile.live.export import notation_migration_spec, to_yaml
from acr_reconcile.plan.planner import plan
from acr_reconcile.spec.loader import load_text

SUB = "00000000-0000-0000-0000-000000000000"
A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64
ROOT = "1" * 64
WHEN = datetime(2029, 1, 1, tzinfo=UTC)
KEY = {
    "name": "contoso-signing",
    "certificate": "release",
    "subject": "CN=release, O=Contoso, ST=WA, C=US",
}
EXPORTED: dict[str, Any] = {
    "apiVersion": "acr-reconcile/v1",
    "kind": "RegistryTrust",
    "subscriptionId": SUB,
    "resourceGroup": {"name": "rg", "location": "westeurope", "tags": {}},
    "registry": {
        "name": "registrydavid",
        "sku": "Premium",
        "contentTrust": "enabled",
        "adminUserEnabled": False,
        "tags": {},
    },
    "signers": [
        {
            "name": "ci",
            "principal": {"appId": "11111111-1111-1111-1111-111111111111"},
            "principalType": "ServicePrincipal",
            "roles": ["AcrImageSigner", "AcrPush"],
        }
    ],
    "roleAssignments": {"prune": False},
    "images": [{"repository": "app", "tags": ["v1", "unsigned"], "sign": False}],
}
INVENTORY = DctInventory(
    "registrydavid",
    "registrydavid.azurecr.io",
    WHEN,
    (
        InventoryEntry("app", "v1", "targets", A, 10, WHEN, ROOT),
        InventoryEntry("app", "v1", "targets/releases", A, 10, WHEN, ROOT),
        InventoryEntry("app", "latest", "targets/releases", A, 10, WHEN, ROOT),
        InventoryEntry("tools", "v2", "targets", B, 20, WHEN, ROOT),
    ),
)


def test_the_migration_document_lists_every_dct_signed_tag_and_validates(tmp_path: Path) -> None:
    migrated = notation_migration_spec(EXPORTED, INVENTORY, KEY)
    assert migrated["registry"]["contentTrust"] == "disabled"
    assert migrated["notation"] == {"signingKey": {"keyVault": KEY}}
    assert migrated["images"] == [
        {"repository": "app", "tags": ["latest", "v1"], "sign": True},
        {"repository": "tools", "tags": ["v2"], "sign": True},
    ]
    assert EXPORTED["registry"]["contentTrust"] == "enabled"  # the input is left alone
    path = tmp_path / "migrate.yaml"
    path.write_text(to_yaml(migrated))
    assert "export --to notation" in path.read_text()
    assert main(["validate", str(path)]) == 0


def test_plan_on_it_is_a_migration_that_disables_trust_after_the_signatures() -> None:
    [doc] = load_text(to_yaml(notation_migration_spec(EXPORTED, INVENTORY, KEY)), "m.yaml")
    registry = s.LiveRegistry(
        id=f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.ContainerRegistry/"
        "registries/registrydavid",
        name="registrydavid",
        resource_group="rg",
        location="westeurope",
        sku="Premium",
        login_server="registrydavid.azurecr.io",
        admin_user_enabled=False,
        trust_status="enabled",
    )
    reading = DctReading(
        "registrydavid",
        "registrydavid.azurecr.io",
        WHEN,
        (
            RepositoryDct(
                "app",
                "registrydavid.azurecr.io/app",
                (SignedEntry("v1", A, 10, "targets", WHEN),),
                ROOT,
            ),
        ),
        {("app", "v1"): (A, 10)},
    )
    assert dct_inventory(reading).entries
    live = s.LiveState(
        registries={(SUB, "registrydavid"): s.LiveRegistryData(registry, dct=reading)}
    )
    rules = s.PlatformRules(today=WHEN.date(), new_trust_enablement_allowed=False)
    result = plan([doc], live, rules)
    assert "dct-migration" in {d.details.get("rule") for d in result.diagnostics}
    kinds = [c.kind.value for c in result.pending]
    signature = next(c for c in result.pending if c.kind.value == "notation-signature")
    trust = next(c for c in result.pending if c.kind.value == "trust-policy")
    assert kinds.index("notation-signature") < kinds.index("trust-policy")
    assert signature.address in trust.depends_on and trust.destroys_trust


def _args(**given: str | None) -> argparse.Namespace:
    values = {
        "to": None,
        "signing_vault": None,
        "signing_certificate": None,
        "signing_subject": None,
    }
    return argparse.Namespace(**{**values, **given})


def test_signing_key_options_all_or_nothing() -> None:
    assert signing_key_of(_args()) is None
    full = _args(to="notation", signing_vault="v", signing_certificate="c", signing_subject="CN=x")
    assert signing_key_of(full) == {"name": "v", "certificate": "c", "subject": "CN=x"}
    with pytest.raises(ConfigError, match="needs --signing-certificate, --signing-subject"):
        signing_key_of(_args(to="notation", signing_vault="v"))
    with pytest.raises(ConfigError, match="--signing-vault needs --to notation"):
        signing_key_of(_args(signing_vault="v"))
