"""Fault rules belong to one plane: control-plane rules (the default) never touch the
registries' loginServers, and data-plane rules never touch ARM."""

from __future__ import annotations

import pytest

from acr_sandbox.contracts import DataPlaneFault
from acr_sandbox.faults import FaultInjector, FaultRuleError

TRUST_POST = ("POST", "/v2/127.0.0.1:4000/hello-world/_trust/tuf/")


def _injector(rules: list[dict[str, object]]) -> FaultInjector:
    injector = FaultInjector(seed=1)
    injector.set_rules(rules)
    return injector


def test_a_rule_without_plane_stays_on_the_control_plane() -> None:
    injector = _injector([{"path": ".*", "status": 503}])
    assert injector.data_plane_fault(*TRUST_POST) is None
    assert injector.effects_for(*TRUST_POST).status == 503
    assert injector.rules[0].fired == 1


def test_a_data_rule_reaches_the_login_server_only_and_counts_down() -> None:
    rule = {"method": "POST", "path": "/_trust/tuf/$", "plane": "data", "status": 429}
    injector = _injector([rule | {"retryAfter": 2, "count": 1}])
    assert not injector.effects_for(*TRUST_POST).any
    assert injector.data_plane_fault(*TRUST_POST) == DataPlaneFault(0, 429, 2, False)
    assert injector.data_plane_fault(*TRUST_POST) is None  # count spent
    assert injector.rules[0].describe()["plane"] == "data"


def test_a_data_rule_carries_latency_and_reset() -> None:
    injector = _injector([{"path": "/manifests/", "plane": "data", "latencyMs": 5, "reset": True}])
    fault = injector.data_plane_fault("GET", "/v2/repo/manifests/latest")
    assert fault == DataPlaneFault(latency_ms=5, status=None, retry_after=1, reset=True)
    assert injector.data_plane_fault("GET", "/v2/repo/tags/list") is None


def test_an_unknown_plane_is_refused_naming_the_rule() -> None:
    with pytest.raises(FaultRuleError, match="rule 0: plane must be one of control, data"):
        _injector([{"path": ".*", "plane": "dataplane"}])
