"""Mutated specs (bytes, YAML features, hostile values in every field) load into documents
or a SpecError whose issues are located; any other exception is a loader bug."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acr_reconcile.errors import SpecError
from acr_reconcile.spec.loader import load_text
from tests.fuzz.corpus import REPO
from tests.fuzz.harness_spec import SpecTarget, check_text
from tests.fuzz.mutations import WRONG_VALUES, YAML_SNIPPETS, deep, paths, replace_at

BOUNDED = settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
SEEDS = [p.read_bytes() for p in sorted(REPO.glob("examples/*.yaml"))]
hostile_values = st.one_of(
    st.sampled_from(WRONG_VALUES),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.text(max_size=12),
    st.integers(min_value=60, max_value=90).map(deep),
    st.lists(st.none(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.booleans(), max_size=2),
)


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> SpecTarget:
    return SpecTarget(tmp_path_factory.mktemp("spec-fuzz"))


def test_the_seeds_are_valid_specs() -> None:
    """Mutations start from specs that load, so they reach past the syntax check."""
    assert SEEDS
    for seed in SEEDS:
        assert load_text(seed.decode(), "seed.yaml")


@BOUNDED
@given(st.sampled_from(SEEDS), st.data())
def test_byte_flips_truncation_and_insertion(
    target: SpecTarget, seed: bytes, data: st.DataObject
) -> None:
    mutated = bytearray(seed)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(mutated) - 1))
        how = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if how == "flip":
            mutated[at] ^= 1 << data.draw(st.integers(0, 7))
        elif how == "cut":
            mutated = mutated[:at]
        else:
            mutated[at:at] = data.draw(st.binary(min_size=1, max_size=8))
        if not mutated:
            break
    target.run(bytes(mutated))


@BOUNDED
@given(st.sampled_from(SEEDS), st.data())
def test_yaml_features_anywhere(target: SpecTarget, seed: bytes, data: st.DataObject) -> None:
    """Tags, anchors, aliases, merge keys, directives, deep flow nesting, odd characters."""
    lines = seed.decode().splitlines()
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(lines) - 1))
        snippet = data.draw(st.sampled_from(YAML_SNIPPETS))
        line = lines[at]
        if ": " in line and data.draw(st.booleans()):
            lines[at] = line.partition(": ")[0] + ": " + snippet
        else:
            lines.insert(at, snippet)
    target.run("\n".join(lines).encode("utf-8", "surrogatepass"))


@BOUNDED
@given(st.sampled_from(SEEDS), st.data())
def test_hostile_value_in_every_field(seed: bytes, data: st.DataObject) -> None:
    documents = [d for d in yaml.safe_load_all(seed) if d]
    document: Any = data.draw(st.sampled_from(documents))
    place = data.draw(st.sampled_from(paths(document)))
    broken = replace_at(document, place, data.draw(hostile_values))
    check_text(yaml.safe_dump(broken, allow_unicode=True))


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(max_size=200), st.text(max_size=200))
def test_any_text_in_any_key_and_value(key: str, value: str) -> None:
    check_text(yaml.safe_dump({"apiVersion": "acr-reconcile/v1", key: value}))


# Each level lists the one before ten times: 10**9 values if expanded.
_ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.mark.parametrize(
    "text",
    [_ALIAS_BOMB, "a: " + "9" * 5000, "a: " + "[" * 5000, "- " * 2000 + "x"],
    ids=["alias-bomb", "huge-number", "deep-flow", "deep-block"],
)
def test_big_inputs_end_in_located_issues(text: str) -> None:
    """Limits, not slowness or recursion: alias bombs, 5,000-digit numbers, deep nesting."""
    with pytest.raises(SpecError):
        check_text(text, strict=True)
