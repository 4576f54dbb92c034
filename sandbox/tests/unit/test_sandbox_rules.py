"""Pure parts of the sandbox: trust rules, throttling, fault rules, settings, RBAC
mapping, registry document updates and token checks."""

from __future__ import annotations

import time

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from acr_sandbox import jwt
from acr_sandbox.arm import rbac, registrybody
from acr_sandbox.arm.errors import ArmError
from acr_sandbox.arm.trustrules import TrustView, check
from acr_sandbox.faults import FaultInjector, FaultRuleError
from acr_sandbox.settings import SettingsError, apply_changes, default_settings
from acr_sandbox.throttle import Throttle

PREMIUM_OFF = TrustView("Premium", False, "LegacyRegistryPermissions")
PREMIUM_ON = TrustView("Premium", True, "LegacyRegistryPermissions")


def _code(before: TrustView | None, after: TrustView, mode: str) -> str | None:
    try:
        check("reg", before, after, mode=mode)
    except ArmError as error:
        return error.code
    return None


@pytest.mark.parametrize(
    ("before", "after", "current", "legacy"),
    [
        (None, PREMIUM_OFF, None, None),
        (None, PREMIUM_ON, "ContentTrustUnsupported", None),
        (PREMIUM_OFF, PREMIUM_ON, "ContentTrustUnsupported", None),
        (PREMIUM_ON, PREMIUM_ON, None, None),
        (PREMIUM_ON, PREMIUM_OFF, None, None),
        (
            PREMIUM_ON,
            TrustView("Standard", True, "LegacyRegistryPermissions"),
            "SkuDowngradeBlockedByContentTrust",
            "SkuDowngradeBlockedByContentTrust",
        ),
        (
            None,
            TrustView("Basic", True, "LegacyRegistryPermissions"),
            "ContentTrustNotSupportedForSku",
            "ContentTrustNotSupportedForSku",
        ),
        (
            PREMIUM_OFF,
            TrustView("Premium", True, "AbacRepositoryPermissions"),
            "ContentTrustNotSupportedWithAbac",
            "ContentTrustNotSupportedWithAbac",
        ),
        (PREMIUM_OFF, TrustView("Basic", False, "LegacyRegistryPermissions"), None, None),
    ],
)
def test_trust_rules(
    before: TrustView | None, after: TrustView, current: str | None, legacy: str | None
) -> None:
    assert _code(before, after, "current") == current
    assert _code(before, after, "legacy") == legacy


def test_token_bucket_spends_refills_and_says_when_to_retry() -> None:
    now = [0.0]
    settings = {"enabled": True, "reads": {"capacity": 2, "refill": 0.5}}
    throttle = Throttle(lambda: settings, clock=lambda: now[0])
    first, second, third = (throttle.take("SUB", "reads") for _ in range(3))
    assert (first and first.remaining, second and second.remaining) == (1, 0)
    assert third is not None and not third.allowed and third.retry_after == 2
    now[0] = 2.0
    refilled = throttle.take("sub", "reads")  # same subscription, case-insensitive
    assert refilled is not None and refilled.allowed
    settings["enabled"] = False
    assert throttle.take("sub", "reads") is None


def test_fault_rules_match_count_and_combine() -> None:
    faults = FaultInjector(seed=1)
    faults.set_rules(
        [
            {"method": "GET", "path": "/registries/", "status": 429, "count": 1},
            {"path": "/registries/", "latencyMs": 50},
            {"method": "PUT", "path": "x", "probability": 0.0, "reset": True},
        ]
    )
    first = faults.effects_for("GET", "/subscriptions/s/registries/r")
    assert (first.status, first.latency_ms) == (429, 50)
    second = faults.effects_for("GET", "/subscriptions/s/registries/r")
    assert (second.status, second.latency_ms) == (None, 50)
    assert not faults.effects_for("PUT", "/x").any
    assert not faults.effects_for("POST", "/other").any


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"status": 404}, "status must be one of"),
        ({"path": "("}, "rule 0"),
        ({"bogus": 1}, "unknown field"),
        ({"lro": "slow"}, "lro must be"),
    ],
)
def test_bad_fault_rules_are_named(rule: dict[str, object], message: str) -> None:
    with pytest.raises(FaultRuleError, match=message):
        FaultInjector().set_rules([rule])


def test_settings_are_checked_before_they_change() -> None:
    settings = default_settings()
    apply_changes(settings, {"dct": "legacy", "replicationLagSeconds": 0, "pageSize": 2})
    assert (settings["dct"], settings["replicationLagSeconds"], settings["pageSize"]) == (
        "legacy",
        0.0,
        2,
    )
    apply_changes(settings, {"throttle": {"writes": {"capacity": 5}}})
    assert settings["throttle"]["writes"] == {"capacity": 5, "refill": 10}
    for bad in ({"dct": "old"}, {"pageSize": "2"}, {"nope": 1}, {"pageSize": -1},
                {"enforceRbac": 1}, {"throttle": {"reads": {"refill": 0}}}):  # fmt: skip
        with pytest.raises(SettingsError):
            apply_changes(settings, bad)
    assert settings["pageSize"] == 2


@pytest.mark.parametrize(
    ("method", "path", "action", "scope_end"),
    [
        ("GET", "/subscriptions/s/resourcegroups/rg", "resourceGroups/read", "/rg"),
        ("DELETE", "/subscriptions/s/resourcegroups/rg", "resourceGroups/delete", "/rg"),
        (
            "PUT",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r",
            "registries/write",
            "/r",
        ),
        (
            "POST",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r/importImage",
            "importImage/action",
            "/r",
        ),
        (
            "PUT",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Authorization/roleAssignments/g",
            "roleAssignments/write",
            "/rg",
        ),
        ("GET", "/subscriptions/s/providers/Microsoft.ContainerRegistry/registries", "read", "/s"),
    ],
)
def test_rbac_maps_requests_to_actions_and_scopes(
    method: str, path: str, action: str, scope_end: str
) -> None:
    need = rbac.required(method, path)
    assert need is not None
    scope, found_action, allowed = need
    assert scope.endswith(scope_end) and found_action.endswith(action)
    writes = method != "GET"
    assert (rbac.READER in allowed) is not writes
    assert (rbac.OWNER in allowed) is True


def test_registry_patch_merges_policies_and_ignores_read_only_fields() -> None:
    body = registrybody.new_body(
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r1234",
        "r1234",
        {"location": "West Europe", "sku": {"name": "premium"}},
        "me",
    )
    assert (body["sku"], body["location"]) == ({"name": "Premium", "tier": "Premium"}, "westeurope")
    patched = registrybody.updated_body(
        body,
        {
            "properties": {
                "policies": {"trustPolicy": {"status": "enabled"}},
                "loginServer": "evil",
                "provisioningState": "Failed",
            }
        },
        "me",
    )
    policies = patched["properties"]["policies"]
    assert policies["trustPolicy"] == {"type": "Notary", "status": "enabled"}
    assert policies["exportPolicy"] == {"status": "enabled"}  # untouched siblings stay
    assert patched["properties"]["loginServer"] == body["properties"]["loginServer"]
    assert patched["properties"]["provisioningState"] == "Creating"
    with pytest.raises(ArmError, match="InvalidSkuName"):
        registrybody.updated_body(body, {"sku": {"name": "Gold"}}, "me")


def test_tokens_verify_signature_lifetime_and_audience() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    token = jwt.sign(key, {"aud": "https://management.azure.com/", "exp": now + 60})
    audiences = jwt.audience_set("https://management.azure.com")
    assert jwt.verify(token, key.public_key(), audiences=audiences)["exp"] == now + 60
    with pytest.raises(jwt.TokenInvalid, match="signature"):
        jwt.verify(token, other.public_key(), audiences=audiences)
    with pytest.raises(jwt.TokenInvalid, match="audience"):
        jwt.verify(token, key.public_key(), audiences=jwt.audience_set("https://graph"))
    with pytest.raises(jwt.TokenInvalid, match="expired"):
        jwt.verify(token, key.public_key(), audiences=audiences, now=now + 60 + 301)
    with pytest.raises(jwt.TokenInvalid):
        jwt.verify("not.a.jwt", key.public_key(), audiences=None)


def test_a_list_valued_audience_is_accepted_when_one_value_is_expected() -> None:
    """RFC 7519 section 4.1.3: ``aud`` is a string or an array of strings."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    exp = int(time.time()) + 60
    listed = ["https://kubernetes.default.svc", "api://AzureADTokenExchange"]
    token = jwt.sign(key, {"aud": listed, "exp": exp})
    expected = jwt.audience_set("api://AzureADTokenExchange")
    assert jwt.verify(token, key.public_key(), audiences=expected)["aud"] == listed
    with pytest.raises(jwt.TokenInvalid, match="audience"):
        jwt.verify(token, key.public_key(), audiences=jwt.audience_set("https://graph"))
    odd = jwt.sign(key, {"aud": [1, {"x": 2}], "exp": exp})  # no string in it: no audience
    with pytest.raises(jwt.TokenInvalid, match="audience"):
        jwt.verify(odd, key.public_key(), audiences=expected)
