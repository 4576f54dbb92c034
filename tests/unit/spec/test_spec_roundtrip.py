"""Valid specs survive load -> dump -> load unchanged, whatever YAML makes of their text."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from spec_strategies import specs

from acr_reconcile.spec.loader import load_text
from acr_reconcile.spec.models import RegistryTrustSpec

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _written(spec: RegistryTrustSpec) -> dict[str, Any]:
    """What the spec says, including which optional fields were written at all (the
    planner manages tags only when they are written, so that must survive too)."""
    return spec.model_dump(mode="json", by_alias=True, exclude_unset=True)


def _dump(spec: RegistryTrustSpec) -> str:
    return yaml.safe_dump(_written(spec), allow_unicode=True)


def _load_one(text: str) -> RegistryTrustSpec:
    (document,) = load_text(text, "generated.yaml")
    return document.spec


@FAST
@given(specs)
def test_load_dump_load_is_unchanged_and_keeps_what_was_written(data: dict[str, Any]) -> None:
    first = _load_one(yaml.safe_dump(data, allow_unicode=True))
    text = _dump(first)
    second = _load_one(text)
    assert second == first
    assert _written(second) == _written(first)
    assert ("tags" in data["resourceGroup"]) == ("tags" in first.resource_group.model_fields_set)
    _assert_kept(data, first)


def _assert_kept(data: dict[str, Any], spec: RegistryTrustSpec) -> None:
    assert spec.registry.name == data["registry"]["name"]
    assert spec.subscription_id == data["subscriptionId"].lower()
    assert spec.resource_group.tags == data["resourceGroup"].get("tags", {})
    assert [i.repository for i in spec.images] == [i["repository"] for i in data.get("images", [])]
    written = [s["principal"] for s in data.get("signers", [])]
    assert [s.principal.key[1].lower() for s in spec.signers] == [
        next(iter(p.values())).lower() for p in written
    ]
