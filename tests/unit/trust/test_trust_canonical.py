"""Canonical JSON must be byte-identical to Go's: signatures and server hashes depend on it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acr_reconcile.trust.canonical import encode_canonical

METADATA = Path(__file__).parent / "fixtures" / "metadata"


def test_sorted_keys_and_no_whitespace() -> None:
    assert encode_canonical({"b": 1, "a": [True, None, "x"], "A": {}}) == (
        b'{"A":{},"a":[true,null,"x"],"b":1}'
    )


def test_only_backslash_and_quote_are_escaped() -> None:
    value = {"k": 'a"b\\c\n\t\x01é<>&'}
    assert encode_canonical(value) == '{"k":"a\\"b\\\\c\n\t\x01é<>&"}'.encode()


def test_floats_and_non_string_keys_are_refused() -> None:
    with pytest.raises(TypeError):
        encode_canonical({"n": 1.5})
    with pytest.raises(TypeError):
        encode_canonical({1: "x"})


@pytest.mark.parametrize("role", ["root", "targets", "snapshot", "timestamp"])
def test_the_signed_part_go_wrote_is_reproduced_byte_for_byte(role: str) -> None:
    raw = (METADATA / f"{role}.json").read_bytes()
    signed = json.loads(raw)["signed"]
    assert raw.startswith(b'{"signed":' + encode_canonical(signed) + b',"signatures":')


_plain_text = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=20)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | _plain_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_plain_text, inner, max_size=4),
    max_leaves=20,
)


@given(_json)
def test_matches_sorted_compact_json_without_control_characters(value: object) -> None:
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert encode_canonical(value) == expected.encode()
