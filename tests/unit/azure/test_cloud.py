"""Cloud metadata parsing, platform rules and token claim reading."""

from __future__ import annotations

import base64
import json
from datetime import date

import pytest

from acr_reconcile.azure.cloud import PUBLIC_CLOUD, load_cloud, parse_metadata
from acr_reconcile.azure.credentials import authority_host, token_claims
from acr_reconcile.errors import ConfigError
from acr_reconcile.live.platform import platform_rules

AZURE_STACK_LIKE = {
    "name": "AzureStackUser",
    "resourceManager": "https://management.local.azurestack.external/",
    "authentication": {
        "loginEndpoint": "https://adfs.local.azurestack.external/adfs/",
        "audiences": ["https://management.adfs.azurestack.local/4de154de"],
    },
    "microsoftGraphResourceId": "https://graph.local.azurestack.external/",
    "suffixes": {"acrLoginServer": "azurecr.local.azurestack.external"},
}


def test_metadata_document_gives_endpoints_without_trailing_slashes() -> None:
    cloud = parse_metadata(AZURE_STACK_LIKE, "test")
    assert cloud.resource_manager == "https://management.local.azurestack.external"
    assert cloud.authority_host == "https://adfs.local.azurestack.external/adfs"
    assert cloud.arm_scope == "https://management.adfs.azurestack.local/4de154de/.default"
    assert cloud.graph_scope == "https://graph.local.azurestack.external/.default"
    assert cloud.acr_suffix == "azurecr.local.azurestack.external"
    assert not cloud.is_public


def test_arm_audience_prefers_the_resource_manager_url_when_listed() -> None:
    doc = dict(AZURE_STACK_LIKE)
    doc["authentication"] = {
        "loginEndpoint": "https://login.example/",
        "audiences": ["https://management.core.example/", doc["resourceManager"]],
    }
    assert parse_metadata(doc, "t").arm_audience == "https://management.local.azurestack.external"


def test_metadata_missing_a_field_is_a_config_error_naming_the_source() -> None:
    with pytest.raises(ConfigError, match=r"https://meta\.example.*resourceManager"):
        parse_metadata({"authentication": {"loginEndpoint": "x"}}, "https://meta.example")


def test_without_metadata_hostname_the_public_cloud_is_used() -> None:
    assert load_cloud({}) is PUBLIC_CLOUD


def test_unreachable_metadata_host_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"ARM_METADATA_HOSTNAME=127\.0\.0\.1:1"):
        load_cloud({"ARM_METADATA_HOSTNAME": "127.0.0.1:1"})


@pytest.mark.parametrize(
    ("today", "allowed"), [(date(2026, 5, 30), True), (date(2026, 5, 31), False)]
)
def test_public_cloud_allows_new_trust_only_before_the_cutoff(today: date, allowed: bool) -> None:
    rules = platform_rules(PUBLIC_CLOUD, today)
    assert rules.new_trust_enablement_allowed is allowed
    assert rules.note is None


@pytest.mark.parametrize(("mode", "allowed"), [("allowed", True), ("retired", False)])
def test_sandbox_extension_decides_and_says_so(mode: str, allowed: bool) -> None:
    doc = {**AZURE_STACK_LIKE, "x-acr-reconcile-sandbox": {"contentTrustNewEnablement": mode}}
    rules = platform_rules(parse_metadata(doc, "t"), date(2027, 1, 1))
    assert rules.new_trust_enablement_allowed is allowed
    assert rules.note and "sandbox" in rules.note


def test_authority_host_env_overrides_the_cloud() -> None:
    assert authority_host(PUBLIC_CLOUD, {}) == "https://login.microsoftonline.com"
    assert authority_host(PUBLIC_CLOUD, {"AZURE_AUTHORITY_HOST": "https://a.example/"}) == (
        "https://a.example"
    )


def _jwt(claims: dict[str, str]) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJub25lIn0.{payload}.sig"


def test_token_claims_reads_unpadded_payload() -> None:
    assert token_claims(_jwt({"oid": "ABC-1", "x": "yz"}))["oid"] == "ABC-1"


@pytest.mark.parametrize("token", ["opaque", "a.!!!.c", "a.bnVsbA.c"])
def test_token_claims_of_a_non_jwt_is_empty(token: str) -> None:
    assert token_claims(token) == {}
