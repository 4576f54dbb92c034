"""Mutations shared by the hypothesis properties and the atheris harnesses: they aim at what
hand-written parsers get wrong (types, limits, YAML features, odd characters), not at
random noise alone, so that mutated input reaches past the first syntax check."""

from __future__ import annotations

import json
from typing import Any

# Pieces of YAML a hostile or careless author may write anywhere in a spec.
YAML_SNIPPETS = (
    "!!python/object/apply:os.system ['true']",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "!!omap [a: 1]",
    "!!timestamp 9999-12-31T23:59:59-01:00",
    "!!timestamp soon",
    "!!bool maybe",
    "!!int ''",
    "!!float ''",
    "0001-01-01 00:00:00 +01:00",
    "2024-02-30",
    "!!int 0x" + "f" * 40,
    "9" * 5000,
    "!!float 1e999",
    "-.inf",
    ".nan",
    "&anchor {a: [1, 2]}",
    "*anchor",
    "*undefined",
    "<<: *anchor",
    "? [a, b]\n: c",
    "? {k: v}",
    "[" * 80 + "]" * 80,
    "{a: " * 70 + "1" + "}" * 70,
    "- " * 70 + "x",
    '"\\ud800"',
    '"\\x00\\u2028\\u202e"',
    "\u202e\u2066evil",
    "\U0001f600: \U0001f600",
    "\x85",
    "\t",
    "---",
    "...",
    "%YAML 1.1\n---",
    "%TAG ! tag:example.com,2000:\n---",
    "!local value",
    "~",
    "yes",
    "'",
    '"',
    "|\n  block",
    ">-\n  folded",
)

# Values of every JSON/YAML type, wrong wherever the format wants another one.
WRONG_VALUES: tuple[Any, ...] = (
    None,
    True,
    False,
    0,
    -1,
    2,  # a root version one above the pinned one: the rotation path
    2**63,
    10**400,
    1.5,
    float("inf"),
    "",
    "x",
    "\u0000",
    "\ud800x",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "2030-01-01T00:00:00",
    "not base64!",
    "targets/../../escape",
    "targets/a\u0000b",
    [],
    [None],
    [1, "two"],
    {},
    {"keyids": [], "threshold": 0},
    {"keytype": "ecdsa-x509", "keyval": {"public": "bm90IGEgY2VydA=="}},
    {"keytype": "ecdsa", "keyval": {"public": "AAAA"}},
    {"hashes": {"sha256": 5}, "length": "1"},
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON-like value, the root first."""
    found = [prefix]
    if isinstance(value, dict):
        found += [p for key, item in value.items() for p in paths(item, (*prefix, key))]
    elif isinstance(value, list):
        found += [p for i, item in enumerate(value) for p in paths(item, (*prefix, i))]
    return found


def replace_at(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    """A copy of ``value`` with the place at ``path`` holding ``new`` (a missing key is added)."""
    if not path:
        return new
    head, *rest = path
    copy: Any = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = replace_at(value[head], tuple(rest), new) if rest else new
    return copy


def delete_at(value: Any, path: tuple[Any, ...]) -> Any:
    """A copy of ``value`` without the place at ``path`` (the root cannot go: it is kept)."""
    if not path:
        return value
    *parents, last = path
    container = _get(value, tuple(parents))
    smaller: Any
    if isinstance(container, dict):
        smaller = {k: v for k, v in container.items() if k != last}
    else:
        smaller = [v for i, v in enumerate(container) if i != last]
    return replace_at(value, tuple(parents), smaller)


def deep(levels: int, leaf: Any = 1) -> Any:
    """A value nested ``levels`` deep, alternating lists and mappings."""
    value = leaf
    for level in range(levels):
        value = [value] if level % 2 else {"k": value}
    return value


def json_value(payload: bytes) -> Any:
    """Fuzz bytes as a JSON value when they parse as one, else as a string."""
    text = payload.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        value = value[part]
    return value
