"""Certificates: create from a policy (the ``Self`` issuer signs at once; the operation is
reported ``inProgress`` by the create answer and ``completed`` from the first poll on, the
real service's sequence), get a version or the latest, the policy, the pending
operation, and import (PKCS#12 or PEM). Each version writes a key and a secret of the
same name and version, as Key Vault does: ``kid`` and ``sid`` point at them.

An ``Unknown`` issuer leaves the operation ``inProgress`` with its CSR (merging a signed
certificate is not emulated); any other issuer name is refused.
"""

from __future__ import annotations

import base64
from typing import Any

from aiohttp import web
from cryptography import x509

from acr_sandbox.keyvault import bodies, certbuild, crypto, keys, secrets
from acr_sandbox.keyvault.call import Call, call_of
from acr_sandbox.keyvault.content import new_version, now
from acr_sandbox.keyvault.errors import KeyVaultError, bad_parameter, kv_json, not_found

ACTION = "Microsoft.KeyVault/vaults/certificates/"
PENDING_DETAILS = (
    "Pending certificate created. Certificate request is in progress. This may take some "
    "time based on the issuer provider. Please check again later."
)
RETRY_AFTER = "10"


def _policy_view(call: Call, name: str, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"{call.base}/certificates/{name}/policy",
        **item["policy"],
        "attributes": item["policyAttributes"],
    }


def bundle(call: Call, name: str, version: str, record: dict[str, Any]) -> dict[str, Any]:
    item = call.content.item("certificates", name)
    assert item is not None
    answer: dict[str, Any] = {
        "id": call.object_id("certificates", name, version),
        "kid": call.object_id("keys", name, version),
        "sid": call.object_id("secrets", name, version),
        "x5t": certbuild.x5t(base64.b64decode(record["cer"])),
        "cer": record["cer"],
        "attributes": call.attributes(record),
    }
    if record.get("tags") is not None:
        answer["tags"] = record["tags"]
    answer["policy"] = _policy_view(call, str(item["name"]), item)
    return answer


def _operation(call: Call, name: str, pending: dict[str, Any], *, first: bool) -> dict[str, Any]:
    status = pending["status"]
    if status == "completed" and first:
        status = "inProgress"
    answer: dict[str, Any] = {
        "id": f"{call.base}/certificates/{name}/pending",
        "issuer": pending["issuer"],
        "csr": pending["csr"],
        "cancellation_requested": False,
        "status": status,
    }
    if status == "inProgress":
        answer["status_details"] = PENDING_DETAILS
    else:
        answer["target"] = f"{call.base}/certificates/{name}"
    answer["request_id"] = pending["request_id"]
    return answer


def _issue(
    call: Call,
    name: str,
    key: crypto.PrivateKey,
    chain: list[x509.Certificate],
    policy: dict[str, Any],
    attributes: dict[str, Any],
    tags: dict[str, str] | None,
) -> tuple[str, dict[str, Any]]:
    """Write the certificate version and its key and secret (one version id for all)."""
    version = new_version()
    leaf = chain[0]
    nbf = int(leaf.not_valid_before_utc.timestamp())
    exp = int(leaf.not_valid_after_utc.timestamp())
    attributes = {**attributes, "nbf": nbf, "exp": exp}
    kty = str(policy["key_props"]["kty"])
    key_ops = list(crypto.RSA_OPS if kty.startswith("RSA") else crypto.EC_OPS)
    key_attributes = {**attributes, "exportable": bool(policy["key_props"]["exportable"])}
    keys.store_key(call, name, key, kty, key_ops, key_attributes, tags, version=version,
                   managed=True)  # fmt: skip
    content_type = str(policy["secret_props"]["contentType"])
    value = certbuild.secret_value(key, chain, content_type, policy["key_props"]["exportable"])
    secrets.store_secret(call, name, value, content_type, dict(attributes), tags,
                         version=version, managed=True)  # fmt: skip
    record: dict[str, Any] = {
        "cer": base64.b64encode(certbuild.der(leaf)).decode(),
        "attributes": attributes,
    }
    if tags is not None:
        record["tags"] = tags
    call.content.add_version("certificates", name, record, version)
    return version, record


def _set_policy(item: dict[str, Any], policy: dict[str, Any]) -> None:
    stamp = now()
    created = item.get("policyAttributes", {}).get("created", stamp)
    item["policy"] = policy
    item["policyAttributes"] = {"enabled": True, "created": created, "updated": stamp}


def _item(call: Call, name: str) -> dict[str, Any]:
    item: dict[str, Any] = call.content.data["certificates"].setdefault(
        name.lower(), {"name": name, "versions": {}, "order": []}
    )
    return item


async def create(request: web.Request) -> web.Response:
    call = call_of(request)
    name = bodies.object_name(request)
    call.authorize(ACTION + "create/action", ("certificates", "create"))
    call.spend("keyCreates")
    body = await bodies.read_body(request)
    existing = call.content.item("certificates", name)
    raw_policy = body.get("policy")
    if raw_policy is None and existing is None:
        raise bad_parameter("The certificate policy is required to create a new certificate.")
    try:
        policy = (
            certbuild.normalized(raw_policy) if raw_policy is not None else existing["policy"]  # type: ignore[index]
        )
    except certbuild.PolicyError as error:
        raise bad_parameter(str(error)) from None
    issuer = policy["issuer"]["name"]
    if issuer not in ("Self", "Unknown"):
        raise bad_parameter(f"The issuer '{issuer}' is not known to this vault.")
    attributes = bodies.attributes(body.get("attributes"))
    tags = bodies.tags(body.get("tags"))
    key = await _key_for(call, name, existing, policy)
    try:
        csr = certbuild.csr(key, policy)
        cert = certbuild.self_signed(key, policy, now()) if issuer == "Self" else None
    except certbuild.PolicyError as error:
        raise bad_parameter(str(error)) from None
    item = _item(call, name)
    _set_policy(item, policy)
    if cert is not None:
        _issue(call, name, key, [cert], policy, attributes, tags)
    pending = {
        "issuer": dict(policy["issuer"]),
        "csr": base64.b64encode(csr).decode(),
        "status": "completed" if cert is not None else "inProgress",
        "request_id": new_version(),
        "polls": 0,
    }
    item["pending"] = pending
    call.save()
    location = (
        f"{call.base}/certificates/{name}/pending?api-version="
        f"{request.query.get('api-version', '')}&request_id={pending['request_id']}"
    )
    return kv_json(
        _operation(call, name, pending, first=True),
        status=202,
        headers={"Location": location, "Retry-After": RETRY_AFTER},
    )


async def _key_for(
    call: Call, name: str, existing: dict[str, Any] | None, policy: dict[str, Any]
) -> crypto.PrivateKey:
    """A new key, or with ``reuse_key`` the current version's key."""
    if existing is not None and existing["order"] and policy["key_props"]["reuse_key"]:
        found = call.content.version("keys", name, "")
        if found is not None:
            return call.content.private_key(name, found[0], found[1])
    props = policy["key_props"]
    try:
        return await call.workers.generate(props["kty"], props.get("key_size"), props.get("crv"))
    except crypto.CryptoError as error:
        raise bad_parameter(str(error)) from None


def _require_item(call: Call, request: web.Request) -> tuple[str, dict[str, Any]]:
    name = bodies.object_name(request)
    item = call.content.item("certificates", name)
    if item is None:
        raise not_found("certificate", name)
    return str(item["name"]), item


async def get_pending(request: web.Request) -> web.Response:
    call = call_of(request)
    call.authorize(ACTION + "read", ("certificates", "get"))
    call.spend("transactions")
    name, item = _require_item(call, request)
    pending = item.get("pending")
    if pending is None:
        raise KeyVaultError(
            404, "PendingCertificateNotFound", f"Pending certificate not found: {name}"
        )
    headers = {"Retry-After": RETRY_AFTER} if pending["status"] == "inProgress" else {}
    return kv_json(_operation(call, name, pending, first=False), headers=headers)


async def get_policy(request: web.Request) -> web.Response:
    call = call_of(request)
    call.authorize(ACTION + "read", ("certificates", "get"))
    call.spend("transactions")
    name, item = _require_item(call, request)
    return kv_json(_policy_view(call, name, item))


async def get(request: web.Request) -> web.Response:
    call = call_of(request)
    call.authorize(ACTION + "read", ("certificates", "get"))
    call.spend("transactions")
    name = bodies.object_name(request)
    version = bodies.object_version(request)
    found = call.content.version("certificates", name, version)
    if found is None:
        raise not_found("certificate", name)
    item = call.content.item("certificates", name)
    assert item is not None
    return kv_json(bundle(call, str(item["name"]), found[0], found[1]))


async def import_certificate(request: web.Request) -> web.Response:
    call = call_of(request)
    name = bodies.object_name(request)
    call.authorize(ACTION + "import/action", ("certificates", "import"))
    call.spend("keyCreates")
    body = await bodies.read_body(request)
    value, password = body.get("value"), body.get("pwd")
    if not isinstance(value, str) or not value:
        raise bad_parameter("'value' (the PKCS#12 as base64, or the PEM) is required.")
    if password is not None and not isinstance(password, str):
        raise bad_parameter("'pwd' must be a string.")
    given = body.get("policy")
    raw_policy: dict[str, Any] = given if isinstance(given, dict) else {}
    content_type = (raw_policy.get("secret_props") or {}).get("contentType") or (
        certbuild.PEM if value.lstrip().startswith("-----BEGIN") else certbuild.PKCS12
    )
    try:
        key, chain = certbuild.parse_import(value, password, str(content_type))
        derived = certbuild.policy_of(chain[0], key, str(content_type))
        overlay = {k: v for k, v in raw_policy.items() if k in ("lifetime_actions", "issuer")}
        for part in ("key_props", "x509_props"):
            if isinstance(raw_policy.get(part), dict):
                derived[part] = {**derived[part], **raw_policy[part]}
        policy = certbuild.normalized({**derived, **overlay}, for_import=True)
    except certbuild.PolicyError as error:
        raise bad_parameter(str(error)) from None
    item = _item(call, name)
    _set_policy(item, policy)
    version, record = _issue(
        call,
        name,
        key,
        chain,
        policy,
        bodies.attributes(body.get("attributes")),
        bodies.tags(body.get("tags")),
    )
    call.save()
    return kv_json(bundle(call, name, version, record))


def add(app: web.Application) -> None:
    r = app.router
    r.add_post("/certificates/{name}/create", create)
    r.add_post("/certificates/{name}/import", import_certificate)
    r.add_get("/certificates/{name}/pending", get_pending)
    r.add_get("/certificates/{name}/policy", get_policy)
    r.add_get("/certificates/{name}", get)
    r.add_get("/certificates/{name}/", get)
    r.add_get("/certificates/{name}/{version}", get)
