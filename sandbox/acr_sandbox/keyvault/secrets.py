"""Secrets: set (a new version) and get (a version or the latest). A certificate's secret
is one of these, written when the certificate is issued or imported (``managed``, with the
certificate's ``kid``)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from acr_sandbox.keyvault import bodies
from acr_sandbox.keyvault.call import Call, call_of
from acr_sandbox.keyvault.errors import KeyVaultError, bad_parameter, kv_json, not_found

ACTION = "Microsoft.KeyVault/vaults/secrets/"
MAX_VALUE = 25 * 1024  # Key Vault's secret size limit


def bundle(call: Call, name: str, version: str, record: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = {"value": record["value"]}
    if record.get("contentType"):
        answer["contentType"] = record["contentType"]
    answer["id"] = call.object_id("secrets", name, version)
    answer["attributes"] = call.attributes(record)
    if record.get("tags") is not None:
        answer["tags"] = record["tags"]
    if record.get("managed"):
        answer["kid"] = call.object_id("keys", name, version)
        answer["managed"] = True
    return answer


def store_secret(
    call: Call,
    name: str,
    value: str,
    content_type: str | None,
    attributes: dict[str, Any],
    tags: dict[str, str] | None,
    *,
    version: str = "",
    managed: bool = False,
) -> tuple[str, dict[str, Any]]:
    record: dict[str, Any] = {"value": value, "attributes": attributes}
    if content_type:
        record["contentType"] = content_type
    if tags is not None:
        record["tags"] = tags
    if managed:
        record["managed"] = True
    return call.content.add_version("secrets", name, record, version), record


async def set_secret(request: web.Request) -> web.Response:
    call = call_of(request)
    name = bodies.object_name(request)
    call.authorize(ACTION + "setSecret/action", ("secrets", "set"))
    call.spend("secretCreates")
    body = await bodies.read_body(request)
    value, content_type = body.get("value"), body.get("contentType")
    if not isinstance(value, str):
        raise bad_parameter("'value' (a string) is required.")
    if len(value.encode()) > MAX_VALUE:
        raise bad_parameter("The secret value exceeds the maximum size of 25 KB.")
    if content_type is not None and not isinstance(content_type, str):
        raise bad_parameter("'contentType' must be a string.")
    existing = call.content.item("secrets", name)
    if existing is not None and existing["versions"][existing["order"][-1]].get("managed"):
        raise KeyVaultError(
            409,
            "Conflict",
            f"Secret {name} is managed by a certificate of the same name and cannot be set.",
        )
    version, record = store_secret(
        call,
        name,
        value,
        content_type,
        bodies.attributes(body.get("attributes")),
        bodies.tags(body.get("tags")),
    )
    call.save()
    return kv_json(bundle(call, name, version, record))


async def get_secret(request: web.Request) -> web.Response:
    call = call_of(request)
    name = bodies.object_name(request)
    version = bodies.object_version(request)
    call.authorize(ACTION + "getSecret/action", ("secrets", "get"))
    call.spend("transactions")
    found = call.content.version("secrets", name, version)
    if found is None:
        raise not_found("secret", name)
    item = call.content.item("secrets", name)
    assert item is not None
    if not found[1]["attributes"].get("enabled", True):
        raise KeyVaultError(
            403, "Forbidden", "Operation get is not allowed on a disabled secret.",
            inner="SecretDisabled",
        )  # fmt: skip
    return kv_json(bundle(call, str(item["name"]), found[0], found[1]))


def add(app: web.Application) -> None:
    r = app.router
    r.add_put("/secrets/{name}", set_secret)
    r.add_get("/secrets/{name}", get_secret)
    r.add_get("/secrets/{name}/", get_secret)
    r.add_get("/secrets/{name}/{version}", get_secret)
