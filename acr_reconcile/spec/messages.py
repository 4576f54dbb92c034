"""Pydantic's error records turned into messages a spec author can act on.

Pydantic speaks Python ("Input should be a valid string"); the author wrote YAML, where
``1``, ``yes`` and ``2024-01-01`` silently become a number, a boolean and a date. The
messages here say what YAML made of the value and how to write it instead.
"""

from __future__ import annotations

import datetime
import difflib
import re
from typing import Any

from pydantic_core import ErrorDetails

from acr_reconcile.spec.models import (
    ROLE_ID_TAG,
    ROLE_NAME_TAG,
    ImageSpec,
    PrincipalRef,
    RegistrySpec,
    RegistryTrustSpec,
    ResourceGroupSpec,
    RoleAssignmentsSpec,
    RoleDefinitionRef,
    SignerSpec,
)
from acr_reconcile.spec.notation import (
    FileKeySpec,
    KeyVaultKeySpec,
    NotationSpec,
    SigningKeySpec,
)

UNION_TAGS = frozenset({ROLE_NAME_TAG, ROLE_ID_TAG})

# Which model a mapping at a path (list indexes as N) is validated by.
_MODEL_AT: dict[str, type[Any]] = {
    "": RegistryTrustSpec,
    "resourceGroup": ResourceGroupSpec,
    "registry": RegistrySpec,
    "signers.N": SignerSpec,
    "signers.N.principal": PrincipalRef,
    "signers.N.roles.N": RoleDefinitionRef,
    "roleAssignments": RoleAssignmentsSpec,
    "images.N": ImageSpec,
    "notation": NotationSpec,
    "notation.signingKey": SigningKeySpec,
    "notation.signingKey.keyVault": KeyVaultKeySpec,
    "notation.signingKey.file": FileKeySpec,
}


def yaml_kind(value: Any) -> str:
    """What YAML made of a value, in the author's terms."""
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, datetime.date):
        return f"the date {value.isoformat()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"the string {value!r}" if isinstance(value, str) else type(value).__name__


def _quote_hint(value: Any) -> str:
    if isinstance(value, bool):
        return " (YAML reads unquoted yes/no/on/off/true/false as booleans; quote it)"
    if isinstance(value, int | float | datetime.date):
        return " (quote it)"
    return ""


def allowed_fields(parent: str) -> list[str]:
    """The YAML field names of the model validating the mapping at ``parent``."""
    pattern = re.sub(r"(^|\.)\d+(?=\.|$)", r"\1N", parent)
    model = _MODEL_AT.get(pattern)
    if model is None:
        return []
    return [info.alias or name for name, info in model.model_fields.items()]


# How alike an unknown key and a field must be for "did you mean": typos (imagse, registy,
# contenttrust, signer) score 0.8 and more; unrelated words that share letters score
# less (stages/images 0.67, adminuser/adminUserEnabled 0.72) and get no suggestion.
SUGGEST_CUTOFF = 0.75


def did_you_mean(key: str, allowed: list[str]) -> str | None:
    """The field ``key`` most likely misspells, case-insensitively, if close enough."""
    lowered = {name.lower(): name for name in allowed}
    near = difflib.get_close_matches(key.lower(), list(lowered), n=1, cutoff=SUGGEST_CUTOFF)
    return lowered[near[0]] if near else None


def _unknown_field(path: str) -> str:
    parent, _, key = path.rpartition(".")
    allowed = allowed_fields(parent)
    near = did_you_mean(key, allowed)
    hint = f"; did you mean {near!r}?" if near else ""
    listed = f" (allowed: {', '.join(allowed)})" if allowed else ""
    return f"unknown field {key!r}{hint}{listed}"


def message_for(error: ErrorDetails, path: str) -> str:
    """One line saying what is wrong with the value at ``path`` and what the rule is."""
    kind, given, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    field = path.rpartition(".")[2]
    if kind == "missing":
        return f"required field {field!r} is missing"
    if kind == "extra_forbidden":
        return _unknown_field(path)
    if kind == "string_type":
        return f"must be a string, not {yaml_kind(given)}{_quote_hint(given)}"
    if kind == "bool_type":
        return f"must be true or false, not {yaml_kind(given)}"
    if kind == "list_type":
        return f"must be a list, not {yaml_kind(given)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a mapping, not {yaml_kind(given)}"
    if kind == "enum":
        return f"must be one of {ctx.get('expected', '')}, not {yaml_kind(given)}"
    if kind == "too_short":
        return "must list at least one entry"
    if kind == "too_long":
        found = len(given) if isinstance(given, dict | list) else ctx.get("actual_length")
        return f"Azure allows at most {ctx.get('max_length')} tags per resource; found {found}"
    return str(error["msg"])
