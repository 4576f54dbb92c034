"""The ACR auth flow from an Azure credential, as the docker credential helper does it.

Entra token (ARM audience) → ``POST /oauth2/exchange`` → ACR refresh token (per login
server) → ``POST /oauth2/token`` → access token for the scopes a 401 challenge asked
for. Both tokens are cached until shortly before they expire, so signing a fleet of
tags costs one exchange per registry and one token per repository and action set.

The Entra token is a credential for the whole ARM API, so it goes to one place only:
``https://<loginServer>/oauth2/exchange`` of the registry a client was made for. A 401
challenge is the server's word, not ours: a realm on another host, on another port or over
plain http is refused before anything is sent, and token answers are never followed
through redirects (a 307 would resend the form, token included, wherever it points).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit

import jwt
import requests

from acr_reconcile.bounded import BodyTooLarge, BodyTooSlow, read_body
from acr_reconcile.errors import RegistryError
from acr_reconcile.redact import echo, remember
from acr_reconcile.registry.sessions import data_plane_session
from acr_reconcile.registry.tokens import RegistryTokenSource

ARM_SCOPE = "https://management.azure.com/.default"
EARLY_REFRESH_SECONDS = 60
TIMEOUT = 30
DEADLINE = 60.0  # seconds for one token request, answer included
MAX_ANSWER = 1024 * 1024


class TokenCredential(Protocol):
    def get_token(self, *scopes: str, **kwargs: Any) -> Any: ...


def jwt_expiry(token: str, default_seconds: int) -> float:
    """The ``exp`` of a JWT (read unverified: only for cache timing), else now + default."""
    try:
        claims: Any = jwt.decode(token, options={"verify_signature": False})
        return float(claims["exp"])
    except (jwt.InvalidTokenError, ValueError, KeyError, TypeError):
        return time.time() + default_seconds


def _refused(url: str, response: requests.Response, body: bytes) -> RegistryError:
    """The refusal, quoting what the service said: redacted and cut (a service that
    echoes its request would otherwise hand our tokens to the error line)."""
    try:
        errors = json.loads(body).get("errors") or []
        detail = "; ".join(str(e.get("message", e.get("code", ""))) for e in errors)
    except (ValueError, AttributeError, TypeError, RecursionError):
        detail = ""
    reason = echo(detail or response.reason or "refused")
    status = response.status_code
    return RegistryError(
        f"{url}: the token service refused (HTTP {status}): {reason}", status=status
    )


class AcrTokenSource:
    """The credential and token caches shared by every registry of a run.

    Clients take :meth:`for_registry` (a :class:`RegistryTokens`), which is what knows the
    one host a registry's credentials may be sent to.
    """

    def __init__(
        self,
        credential: TokenCredential,
        *,
        verify: str | bool = True,
        tenant_id: str | None = None,
        session: requests.Session | None = None,
        entra_scope: str | None = None,
    ) -> None:
        self._credential = credential
        # ACR accepts an Entra token for ARM; its audience differs per cloud (sovereign
        # clouds, Azure Stack, the sandbox), so the caller passes the cloud's ARM scope.
        self._entra_scope = entra_scope or ARM_SCOPE
        self._verify = verify
        self._tenant_id = tenant_id
        self._owns_session = session is None
        self._session = session or data_plane_session()
        self._lock = threading.Lock()  # guards the lock table only
        self._key_locks: dict[object, threading.Lock] = {}
        self._refresh: dict[str, tuple[str, float]] = {}
        self._access: dict[tuple[str, str, tuple[str, ...]], tuple[str, float]] = {}

    def close(self) -> None:
        """Close the connections of a session this source made itself."""
        if self._owns_session:
            self._session.close()

    def for_registry(self, login_server: str) -> RegistryTokens:
        """The token flow of one login server: the only host its credentials are sent to."""
        return RegistryTokens(self, login_server)

    def _access_token(self, origin: str, realm: str, service: str, scopes: Sequence[str]) -> str:
        key = (realm, service, tuple(sorted(scopes)))
        with self._locked(key):
            cached = self._access.get(key)
            if cached and cached[1] - EARLY_REFRESH_SECONDS > time.time():
                return cached[0]
            token = self._fetch_access(origin, realm, service, key[2])
            self._access[key] = (token, jwt_expiry(token, 300))
            return token

    def _locked(self, key: object) -> threading.Lock:
        """One lock per cache entry: concurrent callers for one entry fetch once, callers
        for different registries or scopes do not wait for each other."""
        with self._lock:
            return self._key_locks.setdefault(key, threading.Lock())

    def _refresh_token(self, origin: str, service: str) -> str:
        exchange_url = f"{origin}/oauth2/exchange"
        with self._locked(exchange_url):
            cached = self._refresh.get(exchange_url)
            if cached and cached[1] - EARLY_REFRESH_SECONDS > time.time():
                return cached[0]
            token = self._exchange(exchange_url, service)
            self._refresh[exchange_url] = (token, jwt_expiry(token, 3600))
            return token

    def _exchange(self, exchange_url: str, service: str) -> str:
        entra = self._credential.get_token(self._entra_scope).token
        remember(entra)
        form = {"grant_type": "access_token", "service": service, "access_token": entra}
        if self._tenant_id:
            form["tenant"] = self._tenant_id
        response = self._post(exchange_url, form)
        token = str(response.get("refresh_token") or "")
        if not token:
            raise RegistryError(f"{exchange_url}: the answer carried no refresh_token")
        return token

    def _fetch_access(self, origin: str, realm: str, service: str, scopes: tuple[str, ...]) -> str:
        refresh = self._refresh_token(origin, service)
        form: list[tuple[str, str]] = [
            ("grant_type", "refresh_token"),
            ("service", service),
            ("refresh_token", refresh),
        ]
        form += [("scope", s) for s in scopes]
        response = self._post(realm, form)
        token = str(response.get("access_token") or "")
        if not token:
            raise RegistryError(f"{realm}: the answer carried no access_token")
        return token

    def _post(self, url: str, form: Any) -> dict[str, Any]:
        deadline = time.monotonic() + DEADLINE
        try:
            response = self._session.post(
                url,
                data=form,
                verify=self._verify,
                timeout=TIMEOUT,
                allow_redirects=False,
                stream=True,
            )
            try:
                ok = response.status_code == 200
                raw = read_body(response, limit=MAX_ANSWER, deadline=deadline, truncate=not ok)
            finally:
                response.close()
        except requests.RequestException as exc:
            reason = type(exc).__name__
            raise RegistryError(
                f"{url}: cannot reach the token service ({reason})", transient=True
            ) from None
        except BodyTooLarge:
            raise RegistryError(f"{url}: the token service's answer is too large") from None
        except BodyTooSlow:
            raise RegistryError(
                f"{url}: the token service did not answer within {DEADLINE:g} s", transient=True
            ) from None
        if not ok:
            error = _refused(url, response, raw)
            del response  # the traceback keeps this frame: it must not keep the connection
            raise error
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            raise RegistryError(f"{url}: the token service answered with no JSON") from None
        if not isinstance(body, dict):
            return {}
        remember(*(str(body.get(k) or "") for k in ("refresh_token", "access_token")))
        return body


def origin_of(login_server: str) -> tuple[str, int]:
    """(host, port) of a login server given as ``host[:port]`` or ``https://host[:port]``."""
    parts = urlsplit("https://" + login_server.removeprefix("https://").rstrip("/"))
    return (parts.hostname or "").lower(), parts.port or 443


class RegistryTokens(RegistryTokenSource):
    """:class:`AcrTokenSource` bound to one login server (caches stay shared).

    ACR serves its token endpoints on the login server itself (the sandbox does the same),
    so the only realm accepted is an https URL with the login server's host and port.
    """

    def __init__(self, source: AcrTokenSource, login_server: str) -> None:
        self._source = source
        self.login_server = login_server.removeprefix("https://").rstrip("/").lower()
        self._origin = origin_of(self.login_server)
        if not self._origin[0]:
            raise RegistryError(f"{login_server!r} is not a registry login server")

    @property
    def origin(self) -> str:
        return f"https://{self.login_server}"

    def access_token(self, *, realm: str, service: str, scopes: Sequence[str]) -> str:
        self._check_realm(realm)
        return self._source._access_token(self.origin, realm, service, scopes)

    def refresh_token(self, *, realm: str, service: str) -> str:
        """The ACR refresh token of this login server (``realm`` is checked all the same)."""
        self._check_realm(realm)
        return self._source._refresh_token(self.origin, service)

    def _check_realm(self, realm: str) -> None:
        try:
            parts = urlsplit(realm)
            port = parts.port or (443 if parts.scheme == "https" else None)
        except ValueError:
            parts, port = urlsplit(""), None
        host = (parts.hostname or "").lower()
        same = parts.scheme == "https" and (host, port) == self._origin and not parts.username
        if not same:
            raise RegistryError(
                f"{self.login_server}: the registry's challenge names the token service "
                f"{realm[:200]!r}, which is not on {self.origin}; no credential was sent there"
            )
