"""Fleet sharding: N shards cover every document exactly once, deterministically."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acr_reconcile.errors import ConfigError
from acr_reconcile.plan.shard import Shard, parse_shard, select
from acr_reconcile.spec.document import SpecDocument
from acr_reconcile.spec.models import RegistryTrustSpec


def _doc(subscription: int, registry: str) -> SpecDocument:
    spec = RegistryTrustSpec.model_validate(
        {
            "apiVersion": "acr-reconcile/v1",
            "kind": "RegistryTrust",
            "subscriptionId": f"00000000-0000-0000-0000-{subscription:012d}",
            "resourceGroup": {"name": "rg", "location": "westeurope"},
            "registry": {"name": registry, "sku": "Premium"},
        }
    )
    return SpecDocument(spec=spec, file="fleet.yaml", index=0)


fleets = st.lists(
    st.tuples(st.integers(0, 5), st.from_regex(r"[a-z][a-z0-9]{4,12}", fullmatch=True)),
    max_size=60,
    unique=True,
)


@given(fleet=fleets, count=st.integers(1, 12))
def test_shards_cover_the_fleet_exactly_once(fleet: list[tuple[int, str]], count: int) -> None:
    docs = [_doc(sub, name) for sub, name in fleet]
    seen: list[tuple[str, str]] = []
    for index in range(count):
        part = select(docs, Shard(index, count))
        seen += [(d.spec.subscription_id, d.spec.registry.name) for d in part]
    assert sorted(seen) == sorted((d.spec.subscription_id, d.spec.registry.name) for d in docs)
    assert len(seen) == len(set(seen))


@given(fleet=fleets, count=st.integers(1, 12))
def test_shards_are_balanced_and_independent_of_input_order(
    fleet: list[tuple[int, str]], count: int
) -> None:
    docs = [_doc(sub, name) for sub, name in fleet]
    sizes = [len(select(docs, Shard(i, count))) for i in range(count)]
    assert max(sizes) - min(sizes) <= 1
    assert select(list(reversed(docs)), Shard(0, count)) == select(docs, Shard(0, count))


def test_a_subscription_stays_together_when_shards_are_few() -> None:
    docs = [_doc(1, f"regone{i}") for i in range(4)] + [_doc(2, f"regtwo{i}") for i in range(4)]
    first = {d.spec.subscription_id for d in select(docs, Shard(0, 2))}
    second = {d.spec.subscription_id for d in select(docs, Shard(1, 2))}
    assert len(first) == 1 and len(second) == 1 and first != second


@pytest.mark.parametrize("text", ["3/3", "-1/2", "1/0", "a/b", "1", "1/2/3", ""])
def test_bad_shard_arguments_are_refused_with_the_rule(text: str) -> None:
    with pytest.raises(ConfigError, match="--shard"):
        parse_shard(text)


def test_shard_parses_zero_based_index() -> None:
    assert parse_shard(" 0/4 ") == Shard(0, 4)
    assert str(parse_shard("3/4")) == "3/4"
