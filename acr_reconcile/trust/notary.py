"""HTTP client for a notary server (notary-server, or ACR's ``/v2/<gun>/_trust`` endpoint).

Authentication is the docker registry bearer flow: the server answers 401 with a
``WWW-Authenticate: Bearer realm=…,service=…,scope=…`` challenge and we ask the token source
for exactly that scope, then retry once. ``verify`` is passed on every request because the
environment's CA bundle variables would otherwise override a session setting. Reads that
meet throttling, server trouble or a broken connection are asked again by the session's
retry policy (``acr_reconcile.registry.sessions``); an upload never is: the publish re-reads
and finds out whether it landed.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

import requests

from acr_reconcile.errors import TrustServerError
from acr_reconcile.registry.sessions import data_plane_session
from acr_reconcile.registry.tokens import RegistryTokenSource
from acr_reconcile.trust.crypto import PublicKey

_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')
TIMEOUT = 30.0


class VersionConflict(TrustServerError):
    """Someone published a newer version first; re-read, merge and retry."""


class NotaryHttp:
    def __init__(
        self,
        server_url: str,
        token_source: RegistryTokenSource | None,
        verify: str | bool,
        timeout: float = TIMEOUT,
    ) -> None:
        self.server_url = server_url.rstrip("/")
        self.token_source = token_source
        self.verify = verify
        self.timeout = timeout
        self._local = threading.local()
        self._tokens: dict[str, str] = {}
        self._lock = threading.Lock()

    def get_meta(self, gun: str, role: str, checksum: str | None = None) -> bytes | None:
        """The bytes of ``<role>[.<sha256 hex>].json``, or None when the server has none."""
        name = f"{role}.{checksum}.json" if checksum else f"{role}.json"
        response = self._request("GET", gun, name)
        if response.status_code == 404:
            return None
        self._raise_for(response, gun, f"GET {name}")
        return response.content

    def get_server_key(self, gun: str, role: str) -> PublicKey:
        """The server's public key for ``snapshot``/``timestamp`` (created on first ask)."""
        response = self._request("GET", gun, f"{role}.key")
        self._raise_for(response, gun, f"GET {role}.key")
        try:
            return PublicKey.from_json(response.json())
        except ValueError as exc:
            raise TrustServerError(
                f"{gun}: the trust server sent an unreadable {role} key"
            ) from exc

    def upload(self, gun: str, files: Mapping[str, bytes]) -> None:
        """One atomic multipart POST of every changed role (part filename = role name)."""
        parts = [
            ("files", (role, body, "application/octet-stream")) for role, body in files.items()
        ]
        response = self._request("POST", gun, "", files=parts)
        self._raise_for(response, gun, f"publish of {', '.join(files)}")

    def _request(self, method: str, gun: str, name: str, **kwargs: Any) -> requests.Response:
        url = f"{self.server_url}/v2/{gun}/_trust/tuf/{name}"
        response = self._send(method, url, gun, **kwargs)
        if response.status_code == 401 and self.token_source is not None:
            self._refresh_token(gun, response.headers.get("WWW-Authenticate", ""))
            response = self._send(method, url, gun, **kwargs)
        return response

    def _send(self, method: str, url: str, gun: str, **kwargs: Any) -> requests.Response:
        headers = {}
        token = self._tokens.get(gun)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            return self._session().request(
                method, url, headers=headers, verify=self.verify, timeout=self.timeout, **kwargs
            )
        except requests.RequestException as exc:
            raise TrustServerError(
                f"{gun}: cannot reach the trust server {self.server_url}: {type(exc).__name__}",
                transient=True,
            ) from exc

    def _refresh_token(self, gun: str, challenge: str) -> None:
        params = dict(_CHALLENGE_PARAM.findall(challenge))
        if not challenge.lower().startswith("bearer") or "realm" not in params:
            raise TrustServerError(
                f"{gun}: the trust server {self.server_url} asks for an unsupported authentication",
                status=401,
            )
        scope = params.get("scope") or f"repository:{gun}:pull"
        assert self.token_source is not None
        token = self.token_source.access_token(
            realm=params["realm"], service=params.get("service", ""), scopes=scope.split(" ")
        )
        with self._lock:
            self._tokens[gun] = token

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = data_plane_session()
            self._local.session = session
        return session

    def _raise_for(self, response: requests.Response, gun: str, what: str) -> None:
        if response.status_code < 300:
            return
        code, message = _error_of(response)
        text = f"{gun}: the trust server refused {what}: {message or response.reason}"
        if response.status_code == 401:
            text = f"{gun}: not authorized for {what} on the trust server (HTTP 401)"
        if code == "VERSION":
            raise VersionConflict(text, status=response.status_code, code=code)
        raise TrustServerError(
            f"{text} (HTTP {response.status_code})", status=response.status_code, code=code
        )


def _error_of(response: requests.Response) -> tuple[str | None, str]:
    """The first distribution-style ``{"errors":[{code,message,detail}]}`` entry."""
    try:
        first = response.json()["errors"][0]
        detail = first.get("detail")
        message = str(first.get("message", ""))
        if isinstance(detail, dict) and isinstance(detail.get("Error"), dict):
            message = f"{message} ({detail['Error'].get('Msg', '')})"
        return str(first.get("code")), message
    except (ValueError, KeyError, IndexError, TypeError, AttributeError, RecursionError):
        return None, ""
