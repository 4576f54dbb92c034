"""Reading data-plane request bodies and the parts every object shares (names, attributes,
tags), with Key Vault's 400 ``BadParameter`` for anything malformed."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from acr_sandbox.keyvault.content import now
from acr_sandbox.keyvault.errors import KeyVaultError, bad_parameter

OBJECT_NAME = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
VERSION = re.compile(r"^([0-9a-fA-F]{32})?$")


async def read_body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw:
        raise bad_parameter("The request body is empty.")
    try:
        body = json.loads(raw)
    except ValueError:
        raise bad_parameter("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise bad_parameter("The request body must be a JSON object.")
    return body


def object_name(request: web.Request) -> str:
    name = request.match_info["name"]
    if not OBJECT_NAME.match(name):
        raise bad_parameter(
            f"The request URI contains an invalid name: {name}. Names are 1-127 letters, "
            "digits and dashes."
        )
    return name


def object_version(request: web.Request) -> str:
    version = request.match_info.get("version", "")
    if not VERSION.match(version):
        raise KeyVaultError(
            400, "BadParameter", f"The request URI contains an invalid version: {version}."
        )
    return version.lower()


def attributes(raw: Any, *, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """Stored attributes: enabled (default true), nbf/exp if given, created/updated now."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise bad_parameter("'attributes' must be an object.")
    stamp = now()
    out: dict[str, Any] = {"enabled": True}
    if "enabled" in raw:
        if not isinstance(raw["enabled"], bool):
            raise bad_parameter("'attributes.enabled' must be a boolean.")
        out["enabled"] = raw["enabled"]
    for field in ("nbf", "exp"):
        if raw.get(field) is not None:
            if not isinstance(raw[field], int) or isinstance(raw[field], bool):
                raise bad_parameter(f"'attributes.{field}' must be seconds since the epoch.")
            out[field] = raw[field]
    for field in extra:
        if isinstance(raw.get(field), bool):
            out[field] = raw[field]
    out["created"] = stamp
    out["updated"] = stamp
    return out


def tags(raw: Any) -> dict[str, str] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise bad_parameter("'tags' must be an object of strings.")
    if len(raw) > 15:
        raise bad_parameter("At most 15 tags are allowed.")
    return dict(raw)
