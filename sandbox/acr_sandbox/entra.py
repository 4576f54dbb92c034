"""Entra ID: OIDC discovery, signing keys and the v2 token endpoint (client credentials).

Two client authentications, as Entra ID accepts them for applications:

- ``client_secret``: compared with the salted hashes the state keeps;
- ``client_assertion`` (workload identity federation): an RS256 JWT whose ``iss`` and
  ``sub`` match a federated credential registered on the app (issuer, subject and the
  issuer's RSA public key, registered through the admin API), audience
  ``api://AzureADTokenExchange``.

Access tokens are RS256 JWTs signed by the sandbox key, v1 tokens as Entra issues them for
Microsoft's own APIs, with ``aud`` the resource of the requested ``<resource>/.default``
scope and the principal in ``oid``/``appid``.
"""

from __future__ import annotations

import base64
import datetime
import time
import uuid
from typing import Any
from urllib.parse import unquote_plus

from aiohttp import web

from acr_sandbox import jwt
from acr_sandbox.arm.errors import json_response
from acr_sandbox.context import Sandbox, ctx
from acr_sandbox.directory import find_by_app_id
from acr_sandbox.retired import reset_hint
from acr_sandbox.state import secret_matches

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"


def issuer(sandbox: Sandbox) -> str:
    return f"{sandbox.base_url}/{sandbox.tenant_id}/v2.0"


def v1_issuer(sandbox: Sandbox) -> str:
    """The issuer of v1 access tokens (Entra: ``https://sts.windows.net/{tenant}/``)."""
    return f"{sandbox.base_url}/{sandbox.tenant_id}/"


async def openid_configuration(request: web.Request) -> web.Response:
    sandbox = ctx(request)
    tenant = request.match_info["tenant"]
    try:
        # A tenant a reset replaced is still discovered (pointing at today's tenant), so a
        # client with the old exports reaches the token endpoint and is told the remedy:
        # MSAL reports a failed discovery without Entra's words (docs/sandbox.md).
        if not reset_hint(sandbox.state_dir, tenant):
            _check_tenant(sandbox, tenant, discovery=True)
    except OAuthError as error:
        return error.response()
    base = f"{sandbox.base_url}/{sandbox.tenant_id}"
    return json_response(
        {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": issuer(sandbox),
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": f"{sandbox.base_url}/graph/oidc/userinfo",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "oid", "tid"],
            "tenant_region_scope": "EU",
            "cloud_instance_name": "sandbox.invalid",
        }
    )


async def keys(request: web.Request) -> web.Response:
    sandbox = ctx(request)
    return json_response({"keys": [jwt.jwk(sandbox.signing_key.public_key())]})


class OAuthError(Exception):
    def __init__(self, status: int, error: str, code: int, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.code, self.description = status, error, code, description

    def response(self) -> web.Response:
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
        return json_response(
            {
                "error": self.error,
                "error_description": (
                    f"AADSTS{self.code}: {self.description} Trace ID: {trace} "
                    f"Correlation ID: {correlation} Timestamp: {now}"
                ),
                "error_codes": [self.code],
                "timestamp": now,
                "trace_id": trace,
                "correlation_id": correlation,
                "error_uri": f"https://login.microsoftonline.com/error?code={self.code}",
            },
            status=self.status,
        )


def _check_tenant(sandbox: Sandbox, tenant: str, *, discovery: bool = False) -> None:
    if tenant.lower() in (sandbox.tenant_id.lower(), "organizations"):
        return
    raise OAuthError(
        400,
        "invalid_tenant" if discovery else "invalid_request",
        90002,
        reset_hint(sandbox.state_dir, tenant) + f"Tenant '{tenant}' not found. Check to make "
        "sure you have the correct tenant ID and are signing into the correct cloud.",
    )


async def token(request: web.Request) -> web.Response:
    sandbox = ctx(request)
    try:
        _check_tenant(sandbox, request.match_info["tenant"])
        form = await request.post()
        fields = {k: str(v) for k, v in form.items()}
        fields |= _basic_credentials(request.headers.get("Authorization", ""))
        return json_response(issue(sandbox, fields))
    except OAuthError as error:
        return error.response()


def _basic_credentials(header: str) -> dict[str, str]:
    """``client_secret_basic``: client id and secret, form-url-encoded, in a Basic header."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return {}
    try:
        decoded = base64.b64decode(value.strip()).decode()
    except (ValueError, UnicodeDecodeError):
        msg = "The Basic credentials are malformed."
        raise OAuthError(401, "invalid_client", 7000218, msg) from None
    client_id, _, secret = decoded.partition(":")
    return {"client_id": unquote_plus(client_id), "client_secret": unquote_plus(secret)}


def issue(sandbox: Sandbox, form: dict[str, str]) -> dict[str, Any]:
    """The token response for a client-credentials request, or an OAuthError."""
    if form.get("grant_type") != "client_credentials":
        raise OAuthError(
            400,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type "
            f"'{form.get('grant_type', '')}'; the sandbox supports client_credentials.",
        )
    client_id = form.get("client_id", "")
    record = find_by_app_id(sandbox, client_id)
    if record is None:
        raise OAuthError(
            400,
            "unauthorized_client",
            700016,
            reset_hint(sandbox.state_dir, client_id)
            + f"Application with identifier '{client_id}' was not found in the directory "
            f"'{sandbox.tenant_id}'.",
        )
    try:
        _authenticate_client(record, form)
    except OAuthError as error:
        error.description = reset_hint(sandbox.state_dir, client_id) + error.description
        raise
    audience = _audience(form.get("scope", ""))
    lifetime = int(sandbox.settings.get("tokenLifetimeSeconds", 3600))
    now = int(time.time())
    # Every resource the sandbox serves (ARM, Graph, Key Vault, ACR) is a Microsoft
    # first-party API that accepts v1 access tokens, so the v2 endpoint issues v1 tokens
    # for them, as Entra does: sts-style issuer, appid/appidacr, no azp, ver 1.0.
    claims = {
        "aud": audience,
        "iss": v1_issuer(sandbox),
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "aio": "sandbox",
        "appid": record["appId"],
        "appidacr": "1",
        "idp": v1_issuer(sandbox),
        "idtyp": "app",
        "oid": record["id"],
        "sub": record["id"],
        "tid": sandbox.tenant_id,
        "uti": uuid.uuid4().hex[:22],
        "ver": "1.0",
    }
    return {
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": jwt.sign(sandbox.signing_key, claims),
    }


def _audience(scope: str) -> str:
    scopes = [s for s in scope.split() if s not in ("openid", "profile", "offline_access")]
    if not scopes or not scopes[0].endswith("/.default"):
        raise OAuthError(
            400,
            "invalid_scope",
            1002012,
            f"The provided value for scope {scope} is not valid. Client credential flows "
            "must have a scope value with /.default suffixed to the resource identifier "
            "(application ID URI).",
        )
    # The audience is the resource exactly as named before '/.default': az asks for
    # 'https://management.core.windows.net//.default' and gets aud
    # 'https://management.core.windows.net/'; 'https://containerregistry.azure.net/.default'
    # gets 'https://containerregistry.azure.net' (recorded az acr login traffic).
    return scopes[0].removesuffix("/.default")


def _authenticate_client(record: dict[str, Any], form: dict[str, str]) -> None:
    if "client_secret" in form:
        hashes = record.get("secretHashes", [])
        if not any(secret_matches(form["client_secret"], h) for h in hashes):
            raise OAuthError(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request "
                f"is the client secret value, not the client secret ID, for a secret added "
                f"to app '{record['appId']}'.",
            )
        return
    if form.get("client_assertion_type") == ASSERTION_TYPE and form.get("client_assertion"):
        _check_assertion(record, form["client_assertion"])
        return
    raise OAuthError(
        401,
        "invalid_client",
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or "
        "'client_secret'.",
    )


def _check_assertion(record: dict[str, Any], assertion: str) -> None:
    for credential in record.get("federatedCredentials", []):
        try:
            claims = jwt.verify(
                assertion,
                jwt.load_public_pem(str(credential["publicKeyPem"])),
                audiences=jwt.audience_set(*credential.get("audiences", [EXCHANGE_AUDIENCE])),
            )
        except (jwt.TokenInvalid, ValueError):
            continue
        if claims.get("iss") == credential["issuer"] and claims.get("sub") == credential["subject"]:
            return
    raise OAuthError(
        400,
        "invalid_client",
        70021,
        "No matching federated identity record found for presented assertion. Assertion "
        f"audience, issuer or subject does not match a credential of app '{record['appId']}'.",
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", openid_configuration)
    app.router.add_get("/{tenant}/.well-known/openid-configuration", openid_configuration)
    app.router.add_get("/{tenant}/discovery/v2.0/keys", keys)
    app.router.add_get("/{tenant}/discovery/keys", keys)
    app.router.add_post("/{tenant}/oauth2/v2.0/token", token)
