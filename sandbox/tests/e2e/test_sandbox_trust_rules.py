"""Content trust rules on registry writes, in today's mode and in legacy mode."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.containerregistry.models import (
    Policies,
    Registry,
    RegistryProperties,
    RegistryPropertiesUpdateParameters,
    RegistryUpdateParameters,
    Sku,
    TrustPolicy,
)

from acr_sandbox.arm.trustrules import UNSUPPORTED_MESSAGE
from acr_sandbox.testing import SandboxHandle


@pytest.fixture()
def clean(sandbox: SandboxHandle) -> Iterator[SandboxHandle]:
    sandbox.reset_state()
    sandbox.clients().resources.resource_groups.create_or_update("rg", {"location": "westeurope"})
    yield sandbox
    sandbox.settings(dct="legacy")


def _trust(status: str) -> RegistryUpdateParameters:
    policies = Policies(trust_policy=TrustPolicy(type="Notary", status=status))
    return RegistryUpdateParameters(
        properties=RegistryPropertiesUpdateParameters(policies=policies)
    )


def _create(sandbox: SandboxHandle, name: str, sku: str = "Premium", **props: object) -> Registry:
    registry = Registry(
        location="westeurope", sku=Sku(name=sku), properties=RegistryProperties(**props)
    )
    return sandbox.clients().registries.registries.begin_create("rg", name, registry).result()


def _update(sandbox: SandboxHandle, name: str, params: RegistryUpdateParameters) -> Registry:
    return sandbox.clients().registries.registries.begin_update("rg", name, params).result()


def _refusal(call: object) -> HttpResponseError:
    with pytest.raises(HttpResponseError) as refused:
        call()  # type: ignore[operator]
    assert refused.value.status_code == 400
    return refused.value


def test_today_new_enablement_is_refused_with_azures_message(clean: SandboxHandle) -> None:
    clean.settings(dct="current")
    _create(clean, "regnew00001")
    error = _refusal(lambda: _update(clean, "regnew00001", _trust("enabled")))
    assert error.error.code == "ContentTrustUnsupported"
    assert error.error.message == UNSUPPORTED_MESSAGE
    trusted = Policies(trust_policy=TrustPolicy(type="Notary", status="enabled"))
    error = _refusal(lambda: _create(clean, "regnew00002", policies=trusted))
    assert error.error.code == "ContentTrustUnsupported"


def test_a_registry_that_has_trust_keeps_it_but_cannot_get_it_back(clean: SandboxHandle) -> None:
    _create(clean, "regkeep0001")
    _update(clean, "regkeep0001", _trust("enabled"))  # legacy mode: allowed
    clean.settings(dct="current")
    kept = _update(clean, "regkeep0001", RegistryUpdateParameters(tags={"k": "v"}))
    assert kept.policies.trust_policy.status == "enabled"
    assert _update(clean, "regkeep0001", _trust("disabled")).policies.trust_policy.status == (
        "disabled"
    )
    error = _refusal(lambda: _update(clean, "regkeep0001", _trust("enabled")))
    assert error.error.code == "ContentTrustUnsupported"


def test_legacy_mode_allows_enabling_again(clean: SandboxHandle) -> None:
    _create(clean, "reglegacy01")
    _update(clean, "reglegacy01", _trust("enabled"))
    _update(clean, "reglegacy01", _trust("disabled"))
    assert _update(clean, "reglegacy01", _trust("enabled")).policies.trust_policy.status == (
        "enabled"
    )


def test_sku_and_abac_rules(clean: SandboxHandle) -> None:
    _create(clean, "regbasic001", sku="Basic")
    error = _refusal(lambda: _update(clean, "regbasic001", _trust("enabled")))
    assert error.error.code == "ContentTrustNotSupportedForSku"
    _create(clean, "regprem0001")
    _update(clean, "regprem0001", _trust("enabled"))
    downgrade = RegistryUpdateParameters(sku=Sku(name="Standard"))
    error = _refusal(lambda: _update(clean, "regprem0001", downgrade))
    assert error.error.code == "SkuDowngradeBlockedByContentTrust"
    _create(clean, "regabac0001", role_assignment_mode="AbacRepositoryPermissions")
    error = _refusal(lambda: _update(clean, "regabac0001", _trust("enabled")))
    assert error.error.code == "ContentTrustNotSupportedWithAbac"


def test_metadata_extension_reports_the_mode(clean: SandboxHandle) -> None:
    import requests

    url = f"https://{clean.metadata_host}/metadata/endpoints?api-version=2022-09-01"
    modes = []
    for mode in ("current", "legacy"):
        clean.settings(dct=mode)
        document = requests.get(url, verify=clean.ca_bundle, timeout=10).json()
        modes.append(document["x-acr-reconcile-sandbox"]["contentTrustNewEnablement"])
    assert modes == ["retired", "allowed"]
