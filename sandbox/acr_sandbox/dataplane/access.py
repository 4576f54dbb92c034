"""Bearer checks and the error envelope for what the loginServer answers itself.

docker-registry and notary-server check their own tokens. The metadata API
(``/acr/v1/…``) and the referrers API have no backend, so the loginServer checks the
same tokens with the same rules: a request without a token, or whose token lacks the
action, gets the registry's 401 challenge naming the scope to ask for, and clients
(the azure-containerregistry SDK, oras, the tool) fetch a token and retry.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aiohttp import web

from acr_sandbox.dataplane.tokens import TokenSigner


def error(status: int, code: str, message: str, detail: Any = None, **headers: str) -> web.Response:
    """The registry's error envelope: ``{"errors": [{"code", "message", "detail"}]}``."""
    entry: dict[str, Any] = {"code": code, "message": message}
    if detail is not None:
        entry["detail"] = detail
    return web.json_response({"errors": [entry]}, status=status, headers=headers or None)


class AccessCheck:
    """Answers "may this request do ``action`` on ``name``?" from its bearer token."""

    def __init__(self, signer: TokenSigner, login_server: str) -> None:
        self._signer = signer
        self._login_server = login_server

    def _granted(self, request: web.Request) -> list[dict[str, Any]] | None:
        kind, _, token = request.headers.get("Authorization", "").partition(" ")
        if kind.lower() != "bearer" or not token.strip():
            return None
        return self._signer.verify_access(token.strip(), audience=self._login_server)

    def require(
        self, request: web.Request, kind: str, name: str, actions: Iterable[str]
    ) -> web.Response | None:
        """None when allowed; otherwise the 401 challenge to send back."""
        wanted = list(actions)
        granted = self._granted(request)
        if granted is not None:
            for entry in granted:
                if entry.get("type") == kind and entry.get("name") == name:
                    have = set(entry.get("actions") or [])
                    if "*" in have or set(wanted) <= have:
                        return None
        scope = f"{kind}:{name}:{','.join(wanted)}"
        challenge = (
            f'Bearer realm="https://{self._login_server}/oauth2/token",'
            f'service="{self._login_server}",scope="{scope}"'
        )
        if granted is not None:
            challenge += ',error="insufficient_scope"'
        detail = [{"Type": kind, "Name": name, "Action": a} for a in wanted]
        message = "authentication required" if granted is None else "insufficient scope"
        return error(401, "UNAUTHORIZED", message, detail, **{"WWW-Authenticate": challenge})
