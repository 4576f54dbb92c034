"""Canonical JSON exactly as notary's Go code writes it (docker/go ``MarshalCanonical``).

Signatures cover these bytes, and the server hashes its own re-serialisation of what we
upload, so a single differing byte makes every client fail. Python's ``json.dumps`` is
close but escapes control characters; this encoder escapes only ``\\`` and ``"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def encode_canonical(value: Any) -> bytes:
    """Sorted keys, no whitespace, integers only, strings raw UTF-8 but for ``\\`` and ``"``."""
    parts: list[str] = []
    _encode(value, parts)
    return "".join(parts).encode("utf-8")


def _encode(value: Any, out: list[str]) -> None:
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
        _object(value, out)
    elif isinstance(value, Sequence):
        _array(value, out)
    else:
        raise TypeError(f"canonical JSON cannot encode {type(value).__name__}")


def _string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _object(value: Mapping[Any, Any], out: list[str]) -> None:
    out.append("{")
    if not all(isinstance(key, str) for key in value):
        raise TypeError("canonical JSON object keys must be strings")
    # Go sorts keys by their UTF-8 bytes: the same order as Python's code point order.
    for index, key in enumerate(sorted(value)):
        if index:
            out.append(",")
        out.append(_string(key))
        out.append(":")
        _encode(value[key], out)
    out.append("}")


def _array(value: Sequence[Any], out: list[str]) -> None:
    out.append("[")
    for index, item in enumerate(value):
        if index:
            out.append(",")
        _encode(item, out)
    out.append("]")
