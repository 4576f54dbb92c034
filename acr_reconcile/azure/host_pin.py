"""Tokens go only to the host a client was made for.

An SDK client attaches its bearer token to every request its pipeline sends, and a
long-running operation's pipeline sends requests to whatever URL the service named in
``Azure-AsyncOperation`` or ``Location``. Azure names its own host there (ARM's LRO URLs
are on the ARM endpoint, Key Vault's pending-operation URLs on the vault), so a polling
URL on any other host is a hostile or broken answer: the request is refused before the
token is attached, and nothing is sent. The policy sits after the retry policy, so every
attempt and every redirect is checked too.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from azure.core.pipeline import PipelineRequest
from azure.core.pipeline.policies import SansIOHTTPPolicy

from acr_reconcile.errors import TerminalAzureError


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port spelled out."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"https": 443, "http": 80}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


class HostPinPolicy(SansIOHTTPPolicy):  # type: ignore[type-arg]
    """Refuses any request whose origin is not the pinned one."""

    def __init__(self, url: str) -> None:
        self._origin = origin(url)
        self._url = url

    def on_request(self, request: PipelineRequest) -> None:  # type: ignore[type-arg]
        url = str(request.http_request.url)
        if origin(url) != self._origin:
            raise TerminalAzureError(
                url[:200],
                f"refused: the service sent this client to another host than {self._url} "
                "(its credential is only sent there); nothing was sent",
            )
