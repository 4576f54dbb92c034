"""Canonical JSON exactly as notary's Go code writes it (docker/go ``MarshalCanonical``).

Signatures cover these bytes, and the server hashes its own re-serialisation of what we
upload, so a single differing byte makes every client fail. Python's ``json.dumps`` is
close but escapes control characters; this encoder escapes only ``\\`` and ``"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# Notary metadata nests a handful of levels; a bound keeps hostile input from exhausting the
# stack (the encoder recurses) and keeps every refusal a TypeError callers already handle.
MAX_DEPTH = 64


def encode_canonical(value: Any) -> bytes:
    """Sorted keys, no whitespace, integers only, strings raw UTF-8 but for ``\\`` and ``"``."""
    parts: list[str] = []
    _encode(value, parts, 0)
    try:
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate, from a JSON "\ud800" escape
        raise TypeError("canonical JSON cannot encode a lone surrogate") from exc


def _encode(value: Any, out: list[str], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise TypeError(f"canonical JSON nested deeper than {MAX_DEPTH} levels")
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, Mapping):
        _object(value, out, depth)
    elif isinstance(value, Sequence):
        _array(value, out, depth)
    else:
        raise TypeError(f"canonical JSON cannot encode {type(value).__name__}")


def _string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _object(value: Mapping[Any, Any], out: list[str], depth: int) -> None:
    out.append("{")
    if not all(isinstance(key, str) for key in value):
        raise TypeError("canonical JSON object keys must be strings")
    # Go sorts keys by their UTF-8 bytes: the same order as Python's code point order.
    for index, key in enumerate(sorted(value)):
        if index:
            out.append(",")
        out.append(_string(key))
        out.append(":")
        _encode(value[key], out, depth + 1)
    out.append("}")


def _array(value: Sequence[Any], out: list[str], depth: int) -> None:
    out.append("[")
    for index, item in enumerate(value):
        if index:
            out.append(",")
        _encode(item, out, depth + 1)
    out.append("]")
