"""The ACR token service on each loginServer: ``/oauth2/exchange`` and ``/oauth2/token``.

Who the caller is comes from the control plane (an Entra token, a service principal's
secret, or a refresh token we issued); what it may do is read from the role assignments
at the moment of the request, so a role removed through ARM takes effect on the next token.
Anonymous token requests succeed with empty access: the notary CLI asks anonymously
first and only retries with credentials after the backend answers 401.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import web

from acr_sandbox.contracts import Directory, RegistryRecord
from acr_sandbox.dataplane.scopes import grant, parse_scopes
from acr_sandbox.dataplane.tokens import TokenSigner

REFRESH_USER = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True)
class Caller:
    object_id: str
    tenant: str


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"errors": [{"code": code, "message": message}]}, status=status)


class TokenService:
    """Token endpoints of one registry's loginServer."""

    def __init__(
        self, directory: Directory, signer: TokenSigner, registry: RegistryRecord, login_server: str
    ) -> None:
        self._directory = directory
        self._signer = signer
        self._registry = registry
        self._login_server = login_server

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/oauth2/exchange", self.exchange),
            web.get("/oauth2/token", self.token),
            web.post("/oauth2/token", self.token),
        ]

    async def exchange(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != "access_token":
            return _error(400, "UNSUPPORTED", "grant_type must be access_token")
        entra = form.get("access_token")
        principal = self._directory.authenticate_bearer(entra) if isinstance(entra, str) else None
        if principal is None:
            return _error(401, "UNAUTHORIZED", "the access token is invalid or expired")
        tenant = form.get("tenant")
        if isinstance(tenant, str) and tenant and tenant != principal.tenant_id:
            return _error(401, "UNAUTHORIZED", "the access token belongs to another tenant")
        refresh = self._signer.refresh_token(
            subject=principal.object_id, tenant=principal.tenant_id, audience=self._login_server
        )
        return web.json_response({"refresh_token": refresh})

    async def token(self, request: web.Request) -> web.Response:
        scope_values = list(request.query.getall("scope", []))
        fields: dict[str, str] = {}
        if request.method == "POST":
            form = await request.post()
            scope_values += [v for v in form.getall("scope", []) if isinstance(v, str)]
            fields = {k: v for k, v in form.items() if isinstance(v, str)}
        oauth = bool(fields.get("grant_type"))
        caller = self._from_form(fields) if oauth else self._from_basic(request.headers)
        if isinstance(caller, web.Response):
            return caller
        access = []
        if caller is not None:
            roles = self._directory.role_guids_for(caller.object_id, self._registry.id)
            access = grant(parse_scopes(scope_values), roles, self._login_server)
        token, lifetime = self._signer.access_token(
            subject=caller.object_id if caller else "", audience=self._login_server, access=access
        )
        if oauth:
            return web.json_response({"access_token": token})
        issued = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        body = {"token": token, "access_token": token, "expires_in": lifetime, "issued_at": issued}
        return web.json_response(body)

    def _from_form(self, fields: dict[str, str]) -> Caller | web.Response:
        if fields.get("grant_type") != "refresh_token":
            return _error(400, "UNSUPPORTED", "grant_type must be refresh_token")
        return self._from_refresh(fields.get("refresh_token", ""))

    def _from_refresh(self, refresh: str) -> Caller | web.Response:
        claims = self._signer.verify_refresh(refresh, audience=self._login_server)
        if claims is None:
            return _error(401, "UNAUTHORIZED", "the refresh token is invalid or expired")
        return Caller(claims.subject, claims.tenant)

    def _from_basic(self, headers: Mapping[str, str]) -> Caller | web.Response | None:
        header = headers.get("Authorization")
        if not header:
            return None
        kind, _, value = header.partition(" ")
        if kind.lower() != "basic":
            return _error(401, "UNAUTHORIZED", "only basic credentials are accepted here")
        try:
            user, sep, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user, sep, password = "", "", ""
        if not sep:
            return _error(401, "UNAUTHORIZED", "malformed basic credentials")
        if user == REFRESH_USER:
            return self._from_refresh(password)
        principal = self._directory.authenticate_secret(user, password)
        if principal is None:
            return _error(401, "UNAUTHORIZED", "bad credentials")
        return Caller(principal.object_id, principal.tenant_id)
