"""The seam between registry/trust clients and the ACR token flow.

A registry or trust server answers 401 with a ``WWW-Authenticate: Bearer realm=…,
service=…, scope=…`` challenge; the client asks a token source for an access token for
those scopes. On ACR (and the sandbox) the source exchanges an Entra token for an ACR
refresh token (``/oauth2/exchange``) and that for a scoped access token (``/oauth2/token``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable


class RegistryTokenSource(Protocol):
    def access_token(self, *, realm: str, service: str, scopes: Sequence[str]) -> str:
        """A bearer token for ``scopes`` (e.g. ``repository:<gun>:pull,push``) at ``realm``.

        Raises ``acr_reconcile.errors.RegistryError`` when the token service refuses.
        """
        ...


@runtime_checkable
class BindableTokenSource(Protocol):
    """A source shared by the registries of a run (ACR's exchange from one credential);
    each client takes the view bound to its own login server, which is what decides the
    one host its credentials may be sent to."""

    def for_registry(self, login_server: str) -> RegistryTokenSource: ...
