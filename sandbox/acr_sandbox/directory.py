"""Who a caller is and which roles it holds: ARM's and Graph's token check, and the
:class:`~acr_sandbox.contracts.Directory` the data plane asks on every token
request, so data-plane scopes follow the role assignments made through ARM."""

from __future__ import annotations

import datetime
import time
from typing import Any

from aiohttp import web

from acr_sandbox import jwt
from acr_sandbox.arm.errors import ArmError
from acr_sandbox.context import Sandbox
from acr_sandbox.contracts import RegistryRecord, SandboxPrincipal
from acr_sandbox.state import secret_matches

# the verified claims of the request's bearer token (typed keys: aiohttp 3.14 warns on str)
CLAIMS_KEY: web.RequestKey[dict[str, Any]] = web.RequestKey("sandbox.claims", dict)


def principal_of(sandbox: Sandbox, record: dict[str, Any]) -> SandboxPrincipal:
    return SandboxPrincipal(
        object_id=str(record["id"]),
        app_id=record.get("appId"),
        display_name=str(record["displayName"]),
        tenant_id=sandbox.tenant_id,
        principal_type=str(record.get("type", "ServicePrincipal")),
    )


def within(scope: str, assignment_scope: str) -> bool:
    """Whether ``assignment_scope`` is ``scope`` itself or one of its parents."""
    inner, outer = scope.rstrip("/").lower(), assignment_scope.rstrip("/").lower()
    return inner == outer or inner.startswith(outer + "/") or outer == ""


def role_guid(role_definition_id: str) -> str:
    return role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()


class SandboxDirectory:
    """The data plane's view of the control plane (contracts.Directory)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox

    def authenticate_bearer(self, token: str) -> SandboxPrincipal | None:
        try:
            claims = jwt.verify(token, self._sandbox.signing_key.public_key(), audiences=None)
        except jwt.TokenInvalid:
            return None
        record = self._sandbox.store.section("principals").get(str(claims.get("oid", "")))
        return principal_of(self._sandbox, record) if record else None

    def authenticate_secret(self, app_id: str, secret: str) -> SandboxPrincipal | None:
        record = find_by_app_id(self._sandbox, app_id)
        if record and any(secret_matches(secret, h) for h in record.get("secretHashes", [])):
            return principal_of(self._sandbox, record)
        return None

    def registry_for_login_server(self, login_server: str) -> RegistryRecord | None:
        wanted = login_server.lower()
        for entry in self._sandbox.store.section("registries").values():
            body = entry["body"]
            if str(body["properties"].get("loginServer", "")).lower() == wanted:
                return registry_record(body)
        return None

    def role_guids_for(self, object_id: str, scope: str) -> frozenset[str]:
        return role_guids(self._sandbox, object_id, scope)


def role_guids(sandbox: Sandbox, object_id: str, scope: str) -> frozenset[str]:
    wanted = object_id.lower()
    return frozenset(
        role_guid(str(a["properties"]["roleDefinitionId"]))
        for a in sandbox.store.section("roleAssignments").values()
        if str(a["properties"]["principalId"]).lower() == wanted
        and within(scope, str(a["properties"]["scope"]))
    )


def registry_record(body: dict[str, Any]) -> RegistryRecord:
    parts = str(body["id"]).split("/")
    return RegistryRecord(
        id=str(body["id"]),
        name=str(body["name"]),
        subscription_id=parts[2],
        resource_group=parts[4],
        login_server=str(body["properties"].get("loginServer") or ""),
        customer_managed_key=(body["properties"].get("encryption") or {}).get("status")
        == "enabled",
    )


def find_by_app_id(sandbox: Sandbox, app_id: str) -> dict[str, Any] | None:
    wanted = app_id.lower()
    for record in sandbox.store.section("principals").values():
        if str(record.get("appId") or "").lower() == wanted:
            return record
    return None


def require_bearer(
    request: web.Request, sandbox: Sandbox, audiences: tuple[str, ...]
) -> dict[str, Any]:
    """The verified claims of the request's bearer token, or ARM's 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ArmError(
            401,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
            headers=_www_authenticate(sandbox, "missing 'Authorization' header"),
        )
    try:
        claims = _verified(sandbox, token.strip(), audiences)
    except jwt.TokenInvalid as error:
        raise _token_error(sandbox, token.strip(), str(error)) from None
    if str(claims.get("oid", "")) not in sandbox.store.section("principals"):
        raise ArmError(401, "InvalidAuthenticationToken", "The access token is invalid.")
    request[CLAIMS_KEY] = claims
    return claims


_VERIFIED: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}
_VERIFIED_MAX = 2048


def _verified(sandbox: Sandbox, token: str, audiences: tuple[str, ...]) -> dict[str, Any]:
    """Signature checks are the costliest part of a request: a token verified once is
    remembered (its lifetime is still checked on every use)."""
    key = (token, audiences)
    claims = _VERIFIED.get(key)
    if claims is None:
        claims = jwt.verify(
            token, sandbox.signing_key.public_key(), audiences=jwt.audience_set(*audiences)
        )
        if len(_VERIFIED) >= _VERIFIED_MAX:
            _VERIFIED.clear()
        _VERIFIED[key] = claims
    elif time.time() > float(claims["exp"]) + jwt.CLOCK_SKEW_SECONDS:
        del _VERIFIED[key]
        raise jwt.TokenInvalid("the token is expired")
    return claims


def _token_error(sandbox: Sandbox, token: str, reason: str) -> ArmError:
    headers = _www_authenticate(sandbox, reason)
    if reason == "the token is expired":
        exp = jwt.unverified_claims(token).get("exp", 0)
        when = datetime.datetime.fromtimestamp(float(exp), datetime.UTC)
        now = datetime.datetime.now(datetime.UTC)
        return ArmError(
            401,
            "ExpiredAuthenticationToken",
            f"The access token expiry UTC time '{when:%m/%d/%Y %I:%M:%S %p}' is earlier than "
            f"current UTC time '{now:%m/%d/%Y %I:%M:%S %p}'.",
            headers=headers,
        )
    if reason == "the token audience is not accepted":
        return ArmError(
            401,
            "InvalidAuthenticationTokenAudience",
            "The access token has been obtained for wrong audience or resource. It should "
            "exactly match with one of the allowed audiences "
            "'https://management.core.windows.net/','https://management.azure.com/'.",
            headers=headers,
        )
    return ArmError(
        401, "InvalidAuthenticationToken", "The access token is invalid.", headers=headers
    )


def _www_authenticate(sandbox: Sandbox, reason: str) -> dict[str, str]:
    return {
        "WWW-Authenticate": (
            f'Bearer authorization_uri="{sandbox.base_url}/{sandbox.tenant_id}", '
            f'error="invalid_token", error_description="The authentication failed because '
            f'of {reason}."'
        )
    }
