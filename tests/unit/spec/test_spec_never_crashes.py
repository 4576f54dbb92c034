"""Whatever the input, loading ends in documents or a SpecError with located issues."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spec_strategies import specs

from acr_reconcile.errors import SpecError
from acr_reconcile.spec.loader import load_text

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
garbage = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [prefix] + [p for k, v in value.items() for p in _paths(v, (*prefix, k))]
    if isinstance(value, list):
        return [prefix] + [p for i, v in enumerate(value) for p in _paths(v, (*prefix, i))]
    return [prefix]


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, *rest = path
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = _replace(value[head], tuple(rest), new)
    return copy


def _outcome(text: str) -> None:
    try:
        load_text(text, "fuzz.yaml")
    except SpecError as error:
        assert error.issues
        assert all(i.file == "fuzz.yaml" and i.line >= 1 and i.column >= 1 for i in error.issues)
        assert all("\n" not in str(i) for i in error.issues)


@FAST
@given(st.text(max_size=300))
def test_any_text(text: str) -> None:
    _outcome(text)


@FAST
@given(specs, st.data())
def test_any_value_anywhere_in_a_valid_spec(data: dict[str, Any], draw: st.DataObject) -> None:
    path = draw.draw(st.sampled_from(_paths(data)))
    broken = _replace(data, path, draw.draw(garbage))
    _outcome(yaml.safe_dump(broken, allow_unicode=True))
