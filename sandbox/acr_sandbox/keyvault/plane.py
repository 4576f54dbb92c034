"""The vaults' data plane: one HTTPS listener on ``::1`` and ``127.0.0.1`` (same port, kept
across restarts) for every ``<vault>.vault.localhost``, with Key Vault's front door in
this order: the vault named by ``Host``; the bearer challenge (401 + ``WWW-Authenticate``
naming the sandbox's authority and resource); the token (signature, lifetime, audience,
the vault's tenant); the per-vault service limits; then the handler, which authorizes
its data action by RBAC or by the vault's access policies.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from acr_sandbox import jwt
from acr_sandbox.arm.roledefinitions import BY_GUID
from acr_sandbox.context import Sandbox
from acr_sandbox.directory import role_guid, within
from acr_sandbox.keyvault import names, roles, routes
from acr_sandbox.keyvault.call import CALL_KEY, Call
from acr_sandbox.keyvault.content import ContentStore
from acr_sandbox.keyvault.errors import KeyVaultError, kv_json
from acr_sandbox.keyvault.limits import VaultLimits
from acr_sandbox.keyvault.workers import KeyWorkers

log = logging.getLogger(__name__)
PLANE_KEY = "acr_sandbox.keyvault.plane"
VAULT_AUDIENCE = "https://vault.azure.net"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _created(assignment: dict[str, Any]) -> float:
    stamp = str(assignment["properties"].get("createdOn") or "")
    try:
        parsed = dt.datetime.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.UTC)
    except ValueError:
        return 0.0
    return parsed.timestamp()


class KeyVaultPlane:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.contents = ContentStore(sandbox.state_dir)
        self.limits = VaultLimits(lambda: sandbox.settings["keyVaultThrottle"])
        self.workers = KeyWorkers()
        self._runner: web.AppRunner | None = None
        self._verified: dict[str, dict[str, Any]] = {}
        self._grants: set[tuple[str, str, str]] = set()
        self._grants_of: tuple[int, str] = (-1, "")

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self, cert: Path, key: Path) -> None:
        data = self.sandbox.store.data
        sockets = _bind(names.port_of(data))
        port = int(sockets[0].getsockname()[1])
        if port != names.port_of(data):
            data[names.PORT_KEY] = port
        for entry in data.setdefault("keyVaults", {}).values():
            entry["body"]["properties"]["vaultUri"] = names.vault_uri(data, entry["body"]["name"])
        self.sandbox.store.changed()
        self.prune()
        app = web.Application(middlewares=[self._front_door], client_max_size=1024 * 1024)
        routes.add(app)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        for sock in sockets:
            await web.SockSite(self._runner, sock, ssl_context=context).start()
        log.info("key vault data plane on https://*.%s", names.dns_suffix(data))

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.workers.shutdown()

    def status(self) -> dict[str, Any]:
        data = self.sandbox.store.data
        count = len(data.get("keyVaults", {}))
        return {
            "name": "key vault",
            "healthy": self._runner is not None,
            "detail": f"https://<vault>.{names.dns_suffix(data)}, {count} vault(s)",
        }

    def prune(self) -> None:
        """Key stores of vaults neither live nor soft-deleted go (a reset, a purge)."""
        data = self.sandbox.store.data
        keep = {e["contentId"] for e in data.get("keyVaults", {}).values()}
        keep |= {e["vault"]["contentId"] for e in data.get("deletedKeyVaults", {}).values()}
        self.contents.prune(keep)

    def drop(self, entry: dict[str, Any]) -> None:
        self.contents.drop(str(entry["contentId"]))

    # -- the front door ------------------------------------------------------------------
    @web.middleware
    async def _front_door(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        status = 500
        vault_name = ""
        try:
            try:
                call = self._admit(request)
                vault_name = call.name
                request[CALL_KEY] = call
                injected = await self._fault(request)
                response = injected if injected is not None else await handler(request)
            except KeyVaultError as error:
                response = error.response()
            except web.HTTPException as error:
                response = _http_error(error)
            except Exception:
                log.exception("key vault request %s %s failed", request.method, request.path)
                response = KeyVaultError(
                    500, "InternalServerError", "The server encountered an internal error."
                ).response()
            status = response.status
            return response
        finally:
            self.sandbox.requests.add(
                {
                    "time": time.time(),
                    "plane": "data",
                    "vault": vault_name,
                    "method": request.method,
                    "path": request.path,
                    "apiVersion": request.query.get("api-version"),
                    "status": status,
                    "durationMs": round((time.perf_counter() - started) * 1000, 3),
                }
            )

    async def _fault(self, request: web.Request) -> web.StreamResponse | None:
        """The ``data``-plane fault rules, on authenticated requests (the challenge round
        trip stays intact): latency, a dropped connection, or 429/500/503 in Key Vault's
        envelope."""
        fault = self.sandbox.faults.data_plane_fault(request.method, request.path)
        if fault is None:
            return None
        if fault.latency_ms:
            await asyncio.sleep(fault.latency_ms / 1000)
        if fault.reset:
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=500)
        if fault.status:
            code = {429: "Throttled", 500: "InternalServerError", 503: "ServiceUnavailable"}
            headers = {"Retry-After": str(fault.retry_after)} if fault.status != 500 else {}
            return KeyVaultError(
                fault.status,
                code.get(fault.status, "Error"),
                f"The request failed with {fault.status} (injected by the sandbox).",
                headers=headers,
            ).response()
        return None

    def _admit(self, request: web.Request) -> Call:
        data = self.sandbox.store.data
        port = names.port_of(data)
        name = names.vault_of_host(request.host, port)
        entry = _find_vault(data, name) if name else None
        if entry is None:
            raise KeyVaultError(404, "VaultNotFound", f"No vault is served at '{request.host}'.")
        tenant = str(entry["body"]["properties"]["tenantId"])
        claims = self._bearer(request, tenant)
        if not request.query.get("api-version"):
            raise KeyVaultError(400, "BadParameter", "The api-version query parameter is missing.")
        content = self.contents.of(str(entry["contentId"]))
        base = f"https://{entry['body']['name'].lower()}.{names.dns_suffix(data)}"
        return Call(self, entry, content, claims, base)

    def _challenge(self, tenant: str, message: str) -> KeyVaultError:
        authority = f"{self.sandbox.base_url}/{tenant}"
        resource = names.resource(self.sandbox.store.data)
        header = f'Bearer authorization="{authority}", resource="{resource}"'
        return KeyVaultError(401, "Unauthorized", message, headers={"WWW-Authenticate": header})

    def _bearer(self, request: web.Request, tenant: str) -> dict[str, Any]:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise self._challenge(tenant, "AKV10000: Request is missing a Bearer or PoP token.")
        claims = self._verified.get(token)
        if claims is None or time.time() > float(claims["exp"]) + jwt.CLOCK_SKEW_SECONDS:
            audiences = jwt.audience_set(VAULT_AUDIENCE, names.resource(self.sandbox.store.data))
            try:
                claims = jwt.verify(token, self.sandbox.signing_key.public_key(), audiences=None)
            except jwt.TokenInvalid as error:
                if str(error) == "the token is expired":
                    raise self._challenge(
                        tenant, "[TokenExpired] Error validating token: 'S2S12086'."
                    ) from None
                raise self._challenge(tenant, "AKV10022: Invalid token.") from None
            audience = str(claims.get("aud", "")).rstrip("/").lower()
            if audience not in audiences:
                raise self._challenge(
                    tenant,
                    f"AKV10022: Invalid audience. Expected {VAULT_AUDIENCE}, found: "
                    f"{claims.get('aud')}.",
                )
            if len(self._verified) > 4096:
                self._verified.clear()
            self._verified[token] = claims
        if str(claims.get("tid", "")).lower() != tenant.lower():
            raise self._challenge(
                tenant,
                f"AKV10032: Invalid issuer. Expected one of https://sts.windows.net/{tenant}/, "
                f"found {claims.get('iss')}.",
            )
        if str(claims.get("oid", "")) not in self.sandbox.store.section("principals"):
            raise self._challenge(tenant, "AKV10022: Invalid token: unknown principal.")
        return claims

    # -- limits and authorization -------------------------------------------------------
    def spend(self, call: Call, bucket: str, weight: float) -> None:
        wait = self.limits.take(call.name.lower(), bucket, weight)
        if wait is not None:
            raise KeyVaultError(
                429,
                "Throttled",
                "Request was not processed because too many requests were received. "
                "Reason: VaultRequestTypeLimitReached",
                headers={"Retry-After": str(wait)},
            )

    def authorize(self, call: Call, action: str, permission: tuple[str, str]) -> None:
        oid = str(call.claims.get("oid", "")).lower()
        if call.properties.get("enableRbacAuthorization", True):
            if self._rbac_allows(call, oid, action):
                return
            raise self._forbidden_rbac(call, action)
        kind, verb = permission
        for policy in call.properties.get("accessPolicies", []):
            if str(policy.get("objectId", "")).lower() != oid:
                continue
            granted = {p.lower() for p in policy.get("permissions", {}).get(kind, [])}
            if verb.lower() in granted or "all" in granted:
                return
        raise KeyVaultError(
            403,
            "Forbidden",
            f"The user, group or application '{self._caller(call)}' does not have {kind} "
            f"{verb} permission on key vault '{call.name};location="
            f"{call.vault['body']['location']}'. For help resolving this issue, please see "
            "https://go.microsoft.com/fwlink/?linkid=2125287",
            inner="AccessDenied",
        )

    def _rbac_allows(self, call: Call, oid: str, action: str) -> bool:
        """Whether a role assignment at the vault or above grants ``action``.

        Grants are remembered per (caller, vault, action) while the role assignments stay
        as they are (same count, same newest entry): signing is the hot path, and a grant
        once propagated stays until an assignment goes.
        """
        section = self.sandbox.store.section("roleAssignments")
        vault_id = str(call.vault["body"]["id"])
        fingerprint = (len(section), next(reversed(section), ""))
        if self._grants_of != fingerprint:
            self._grants.clear()
            self._grants_of = fingerprint
        cache_key = (oid, vault_id.lower(), action)
        if cache_key in self._grants:
            return True
        delay = float(self.sandbox.settings.get("keyVaultRbacDelaySeconds", 0.0))
        horizon = time.time() - delay
        for assignment in section.values():
            props = assignment["properties"]
            if str(props["principalId"]).lower() != oid:
                continue
            if not within(vault_id, str(props["scope"])):
                continue
            if delay and _created(assignment) > horizon:
                continue  # not yet propagated to the vault
            entry = BY_GUID.get(role_guid(str(props["roleDefinitionId"])))
            if entry is not None and roles.grants(entry[4], action):
                self._grants.add(cache_key)
                return True
        return False

    def _caller(self, call: Call) -> str:
        claims = call.claims
        return (
            f"appid={claims.get('appid', '')};oid={claims.get('oid', '')};"
            f"iss=https://sts.windows.net/{claims.get('tid', '')}/"
        )

    def _forbidden_rbac(self, call: Call, action: str) -> KeyVaultError:
        body = call.vault["body"]
        resource = str(body["id"]).lower()
        return KeyVaultError(
            403,
            "Forbidden",
            "Caller is not authorized to perform action on resource.\r\n"
            "If role assignments, deny assignments or role definitions were changed recently, "
            "please observe propagation time.\r\n"
            f"Caller: {self._caller(call)}\r\n"
            f"Action: '{action}'\r\n"
            f"Resource: '{resource}'\r\n"
            "Assignment: (not found)\r\n"
            "DenyAssignmentId: null\r\n"
            "DecisionReason: 'DeniedWithNoValidRBAC' \r\n"
            f"Vault: {body['name']};location={body['location']}\r\n",
            inner="ForbiddenByRbac",
        )


def plane_of(sandbox: Sandbox) -> KeyVaultPlane:
    plane = sandbox.planes.get("keyvault")
    if plane is None:
        plane = sandbox.planes["keyvault"] = KeyVaultPlane(sandbox)
    assert isinstance(plane, KeyVaultPlane)
    return plane


def _find_vault(data: dict[str, Any], name: str) -> dict[str, Any] | None:
    wanted = name.lower()
    for entry in data.get("keyVaults", {}).values():
        if entry["body"]["name"].lower() == wanted:
            found: dict[str, Any] = entry
            return found
    return None


def _bind(port: int) -> list[socket.socket]:
    """Listening sockets on 127.0.0.1 and (if the host has IPv6) ::1, on one port;
    ``*.localhost`` resolves to both, ``::1`` first."""
    for attempt in range(20):
        wanted = port if attempt == 0 else 0
        v4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        v4.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            v4.bind(("127.0.0.1", wanted))
        except OSError:
            v4.close()
            continue
        chosen = int(v4.getsockname()[1])
        sockets = [v4]
        if socket.has_ipv6:
            v6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            v6.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            v6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                v6.bind(("::1", chosen))
            except OSError as error:
                v6.close()
                if error.errno != 99:  # EADDRNOTAVAIL: no IPv6 loopback here
                    v4.close()
                    continue
            else:
                sockets.append(v6)
        for sock in sockets:
            sock.listen(512)
            sock.setblocking(False)
        return sockets
    raise OSError("no free port for the key vault data plane")


def _http_error(error: web.HTTPException) -> web.Response:
    if error.status == 404:
        return KeyVaultError(404, "NotFound", "The requested URI is not supported.").response()
    if error.status == 405:
        return KeyVaultError(
            405, "MethodNotAllowed", "The requested method is not allowed for this URI."
        ).response()
    return kv_json({"error": {"code": "BadRequest", "message": error.reason}}, status=error.status)
