"""HTTP client for a notary server (notary-server, or ACR's ``/v2/<gun>/_trust`` endpoint).

Authentication is the docker registry bearer flow: the server answers 401 with a
``WWW-Authenticate: Bearer realm=…,service=…,scope=…`` challenge and we ask the token source
for exactly that scope, then retry once. ``verify`` is passed on every request because the
environment's CA bundle variables would otherwise override a session setting. Reads that
meet throttling, server trouble or a broken connection are asked again by the session's
retry policy (``acr_reconcile.registry.sessions``); an upload never is: the publish re-reads
and finds out whether it landed.

Every body is read bounded (:mod:`acr_reconcile.bounded`): metadata to the length its
parent lists, else notary's own caps (100 MiB, a timestamp 1 MiB), and every request to
a total deadline, so a huge or a drip-fed answer ends in an error instead of holding the
run or its memory.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Mapping
from typing import Any

import requests

from acr_reconcile.bounded import BodyTooLarge, BodyTooSlow, MiB, read_body
from acr_reconcile.errors import TrustDataInvalid, TrustServerError
from acr_reconcile.redact import echo
from acr_reconcile.registry.sessions import data_plane_session
from acr_reconcile.registry.tokens import RegistryTokenSource
from acr_reconcile.trust.crypto import PublicKey

_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')
TIMEOUT = 30.0
# notary's client caps: a metadata file its parent does not list is read up to 100 MiB,
# a timestamp (listed by nothing) up to 1 MiB
MAX_METADATA = 100 * MiB
MAX_TIMESTAMP = 1 * MiB
MAX_KEY = 1 * MiB
MAX_ERROR_BODY = 64 * 1024
DEADLINE = 120.0  # seconds for one request, headers and body together


class VersionConflict(TrustServerError):
    """Someone published a newer version first; re-read, merge and retry."""


class NotaryHttp:
    def __init__(
        self,
        server_url: str,
        token_source: RegistryTokenSource | None,
        verify: str | bool,
        timeout: float = TIMEOUT,
        deadline: float = DEADLINE,
    ) -> None:
        self.server_url = server_url.rstrip("/")
        self.token_source = token_source
        self.verify = verify
        self.timeout = timeout
        self.deadline = deadline
        self._local = threading.local()
        self._tokens: dict[str, str] = {}
        self._lock = threading.Lock()

    def get_meta(
        self, gun: str, role: str, checksum: str | None = None, length: int | None = None
    ) -> bytes | None:
        """The bytes of ``<role>[.<sha256 hex>].json``, or None when the server has none.

        ``length`` is what the parent role lists for the file; a longer answer is refused
        without being read to its end.
        """
        name = f"{role}.{checksum}.json" if checksum else f"{role}.json"
        if length is not None:
            limit = length
        else:
            limit = MAX_TIMESTAMP if role == "timestamp" else MAX_METADATA
        response, body = self._request("GET", gun, name, limit=limit, listed=length is not None)
        if response.status_code == 404:
            return None
        self._raise_for(response, gun, f"GET {name}", body)
        return body

    def get_server_key(self, gun: str, role: str) -> PublicKey:
        """The server's public key for ``snapshot``/``timestamp`` (created on first ask)."""
        response, body = self._request("GET", gun, f"{role}.key", limit=MAX_KEY)
        self._raise_for(response, gun, f"GET {role}.key", body)
        try:
            return PublicKey.from_json(json.loads(body))
        except (ValueError, RecursionError) as exc:
            raise TrustServerError(
                f"{gun}: the trust server sent an unreadable {role} key"
            ) from exc

    def upload(self, gun: str, files: Mapping[str, bytes]) -> None:
        """One atomic multipart POST of every changed role (part filename = role name)."""
        parts = [
            ("files", (role, body, "application/octet-stream")) for role, body in files.items()
        ]
        response, body = self._request("POST", gun, "", limit=MAX_ERROR_BODY, files=parts)
        self._raise_for(response, gun, f"publish of {', '.join(files)}", body)

    def _request(
        self, method: str, gun: str, name: str, *, limit: int, listed: bool = False, **kwargs: Any
    ) -> tuple[requests.Response, bytes]:
        """The response and its body, read within ``limit`` bytes and the deadline; the
        connection is released before returning."""
        deadline = time.monotonic() + self.deadline
        url = f"{self.server_url}/v2/{gun}/_trust/tuf/{name}"
        response = self._send(method, url, gun, **kwargs)
        if response.status_code == 401 and self.token_source is not None:
            response.close()
            self._refresh_token(gun, response.headers.get("WWW-Authenticate", ""))
            response = self._send(method, url, gun, **kwargs)
        ok = response.status_code < 300
        try:
            body = read_body(
                response,
                limit=limit if ok else MAX_ERROR_BODY,
                deadline=deadline,
                truncate=not ok,
            )
        except BodyTooLarge:
            if listed:
                raise TrustDataInvalid(
                    f"{gun}: {name} from {self.server_url} is longer than the {limit} "
                    "bytes its parent role lists"
                ) from None
            raise TrustServerError(
                f"{gun}: {name} from {self.server_url} is larger than {limit // MiB} MiB, "
                "more than notary accepts"
            ) from None
        except BodyTooSlow:
            raise TrustServerError(
                f"{gun}: {name} from {self.server_url} did not arrive within "
                f"{self.deadline:g} s; the trust server is too slow or stalled",
                transient=True,
            ) from None
        except requests.RequestException as exc:
            raise TrustServerError(
                f"{gun}: reading {name} from the trust server {self.server_url} failed: "
                f"{type(exc).__name__}",
                transient=True,  # the answer broke off: asking again may get all of it
            ) from None
        finally:
            response.close()
        return response, body

    def _send(self, method: str, url: str, gun: str, **kwargs: Any) -> requests.Response:
        headers = {}
        token = self._tokens.get(gun)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            return self._session().request(
                method,
                url,
                headers=headers,
                verify=self.verify,
                timeout=self.timeout,
                stream=True,
                **kwargs,
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

    def _raise_for(
        self, response: requests.Response, gun: str, what: str, body: bytes | None = None
    ) -> None:
        if response.status_code < 300:
            return
        if body is None:
            body = read_body(
                response,
                limit=MAX_ERROR_BODY,
                deadline=time.monotonic() + self.deadline,
                truncate=True,
            )
        code, message = _error_of(body)
        message = echo(message)  # the server's words: may echo what we sent
        text = f"{gun}: the trust server refused {what}: {message or response.reason}"
        if response.status_code == 401:
            text = f"{gun}: not authorized for {what} on the trust server (HTTP 401)"
        if code == "VERSION":
            raise VersionConflict(text, status=response.status_code, code=code)
        raise TrustServerError(
            f"{text} (HTTP {response.status_code})", status=response.status_code, code=code
        )


def _error_of(body: bytes) -> tuple[str | None, str]:
    """The first distribution-style ``{"errors":[{code,message,detail}]}`` entry."""
    try:
        first = json.loads(body)["errors"][0]
        detail = first.get("detail")
        message = str(first.get("message", ""))
        if isinstance(detail, dict) and isinstance(detail.get("Error"), dict):
            message = f"{message} ({detail['Error'].get('Msg', '')})"
        return str(first.get("code")), message
    except (ValueError, KeyError, IndexError, TypeError, AttributeError, RecursionError):
        return None, ""
