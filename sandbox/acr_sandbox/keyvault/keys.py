"""Keys: create (RSA, EC), import, get (a version or the latest), sign and verify.

Each handler names the data action RBAC checks and the access-policy permission, then
spends from the vault's limits (key creates in their own window; every other key
transaction weighted by key strength).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from acr_sandbox.keyvault import bodies, crypto
from acr_sandbox.keyvault.call import Call, call_of
from acr_sandbox.keyvault.errors import KeyVaultError, bad_parameter, kv_json, not_found

ACTION = "Microsoft.KeyVault/vaults/keys/"


def weight(key: crypto.PrivateKey) -> float:
    if isinstance(key, rsa.RSAPrivateKey):
        return {3072: 4.0, 4096: 8.0}.get(key.key_size, 1.0)
    return 1.0


def bundle(call: Call, name: str, version: str, record: dict[str, Any]) -> dict[str, Any]:
    key = call.content.private_key(name, version, record)
    kid = call.object_id("keys", name, version)
    answer: dict[str, Any] = {
        "key": crypto.public_jwk(key, kid, record["kty"], record["key_ops"]),
        "attributes": call.attributes(record),
    }
    if record.get("tags") is not None:
        answer["tags"] = record["tags"]
    if record.get("managed"):
        answer["managed"] = True
    return answer


def store_key(
    call: Call,
    name: str,
    key: crypto.PrivateKey,
    kty: str,
    key_ops: list[str],
    attributes: dict[str, Any],
    tags: dict[str, str] | None,
    *,
    version: str = "",
    managed: bool = False,
) -> tuple[str, dict[str, Any]]:
    record: dict[str, Any] = {
        "kty": kty,
        "key_ops": key_ops,
        "pem": crypto.to_pem(key),
        "attributes": attributes,
    }
    if tags is not None:
        record["tags"] = tags
    if managed:
        record["managed"] = True
    version = call.content.add_version("keys", name, record, version)
    return version, record


def _ops(raw: Any, kty: str) -> list[str]:
    default = crypto.RSA_OPS if kty.startswith("RSA") else crypto.EC_OPS
    if raw is None:
        return list(default)
    if not isinstance(raw, list) or not all(isinstance(o, str) for o in raw):
        raise bad_parameter("'key_ops' must be an array of strings.")
    return list(raw)


async def create(request: web.Request) -> web.Response:
    call = call_of(request)
    name = bodies.object_name(request)
    call.authorize(ACTION + "create/action", ("keys", "create"))
    call.spend("keyCreates")
    body = await bodies.read_body(request)
    kty = body.get("kty")
    if kty not in crypto.KEY_TYPES:
        raise bad_parameter(f"The key type '{kty}' is not supported; use RSA, RSA-HSM, EC, EC-HSM.")
    size, curve = body.get("key_size"), body.get("crv")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool)):
        raise bad_parameter("'key_size' must be a number.")
    if curve is not None and not isinstance(curve, str):
        raise bad_parameter("'crv' must be a curve name.")
    try:
        key = await call.workers.generate(kty, size, curve)
    except crypto.CryptoError as error:
        raise bad_parameter(str(error)) from None
    version, record = store_key(
        call,
        name,
        key,
        kty,
        _ops(body.get("key_ops"), kty),
        bodies.attributes(body.get("attributes"), extra=("exportable",)),
        bodies.tags(body.get("tags")),
    )
    call.save()
    return kv_json(bundle(call, name, version, record))


async def import_key(request: web.Request) -> web.Response:
    call = call_of(request)
    name = bodies.object_name(request)
    call.authorize(ACTION + "import/action", ("keys", "import"))
    call.spend("keyCreates")
    body = await bodies.read_body(request)
    jwk = body.get("key")
    if not isinstance(jwk, dict):
        raise bad_parameter("'key' (a JSON Web Key with its private parts) is required.")
    try:
        key = crypto.from_jwk(jwk)
    except crypto.CryptoError as error:
        raise bad_parameter(str(error)) from None
    kty = "RSA" if isinstance(key, rsa.RSAPrivateKey) else "EC"
    if body.get("Hsm") is True:
        kty += "-HSM"
    version, record = store_key(
        call,
        name,
        key,
        kty,
        _ops(jwk.get("key_ops"), kty),
        bodies.attributes(body.get("attributes"), extra=("exportable",)),
        bodies.tags(body.get("tags")),
    )
    call.save()
    return kv_json(bundle(call, name, version, record))


def _require(call: Call, request: web.Request) -> tuple[str, str, dict[str, Any]]:
    name = bodies.object_name(request)
    version = bodies.object_version(request)
    found = call.content.version("keys", name, version)
    if found is None:
        raise not_found("key", name)
    stored = call.content.item("keys", name)
    assert stored is not None
    return str(stored["name"]), found[0], found[1]


def _usable(record: dict[str, Any], operation: str) -> None:
    if not record["attributes"].get("enabled", True):
        raise KeyVaultError(
            403, "Forbidden", f"Operation {operation} is not allowed on a disabled key."
        )
    if operation in ("sign", "verify") and operation not in record["key_ops"]:
        raise KeyVaultError(
            403,
            "Forbidden",
            f'Operation "{operation}" is not allowed by the key\'s key_ops.',
            inner="KeyOperationForbidden",
        )


async def get(request: web.Request) -> web.Response:
    call = call_of(request)
    call.authorize(ACTION + "read", ("keys", "get"))
    name, version, record = _require(call, request)
    call.spend("transactions", weight(call.content.private_key(name, version, record)))
    return kv_json(bundle(call, name, version, record))


def _alg_and(body: dict[str, Any], field: str) -> tuple[str, bytes]:
    alg, value = body.get("alg"), body.get(field)
    if not isinstance(alg, str) or not isinstance(value, str):
        raise bad_parameter(f"'alg' and '{field}' are required.")
    try:
        return alg, crypto.unb64url(value)
    except crypto.CryptoError:
        raise bad_parameter(f"'{field}' is not base64url.") from None


async def sign(request: web.Request) -> web.Response:
    call = call_of(request)
    call.authorize(ACTION + "sign/action", ("keys", "sign"))
    name, version, record = _require(call, request)
    key = call.content.private_key(name, version, record)
    call.spend("transactions", weight(key))
    _usable(record, "sign")
    alg, digest = _alg_and(await bodies.read_body(request), "value")
    try:
        signature = await call.workers.sign(key, alg, digest)
    except crypto.CryptoError as error:
        raise bad_parameter(str(error)) from None
    kid = call.object_id("keys", name, version)
    return kv_json({"kid": kid, "value": crypto.b64url(signature)})


async def verify(request: web.Request) -> web.Response:
    call = call_of(request)
    call.authorize(ACTION + "verify/action", ("keys", "verify"))
    name, version, record = _require(call, request)
    key = call.content.private_key(name, version, record)
    call.spend("transactions", weight(key))
    _usable(record, "verify")
    body = await bodies.read_body(request)
    alg, signature = _alg_and(body, "value")
    raw_digest = body.get("digest")
    if not isinstance(raw_digest, str):
        raise bad_parameter("'digest' is required.")
    try:
        valid = crypto.verify(key.public_key(), alg, crypto.unb64url(raw_digest), signature)
    except crypto.CryptoError as error:
        raise bad_parameter(str(error)) from None
    return kv_json({"value": valid})


def add(app: web.Application) -> None:
    r = app.router
    r.add_post("/keys/{name}/create", create)
    r.add_put("/keys/{name}", import_key)
    r.add_get("/keys/{name}", get)
    r.add_get("/keys/{name}/", get)
    r.add_get("/keys/{name}/{version}", get)
    # an empty version (``/keys/{name}//sign``) means the latest, as for a GET
    for version in ("/{version}", "/"):
        r.add_post(f"/keys/{{name}}{version}/sign", sign)
        r.add_post(f"/keys/{{name}}{version}/verify", verify)
