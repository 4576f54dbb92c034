"""The one retry policy of the data plane: HTTP sessions for registry, token and trust clients.

azure-core retries the SDK's requests; the registry API, the ACR token service and the
trust server are spoken with ``requests``, so their sessions carry the equivalent policy
(urllib3 ``Retry``): 429 and 5xx answers and broken connections are asked again with
exponential backoff, a ``Retry-After`` is honoured (bounded), and only requests that are
safe to repeat are repeated: GET and HEAD, and the two POSTs of the ACR token flow,
``/oauth2/exchange`` and ``/oauth2/token``, which mint a token and change nothing. Every
other write (a blob or manifest push, a trust upload) goes out once: whether a trust
upload that got no answer landed is for the publish to find out by reading again.

When the retries run out the last answer is returned, not an exception, so the client
reports the status it saw (and marks its error ``transient``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

from acr_reconcile.errors import TRANSIENT_STATUS

SAFE_METHODS = frozenset({"GET", "HEAD"})
# POSTs that are idempotent by contract: the ACR token exchange and token endpoints
IDEMPOTENT_POST_PATHS = frozenset({"/oauth2/exchange", "/oauth2/token"})
TOTAL = 5
BACKOFF_FACTOR = 0.5
BACKOFF_MAX = 20.0
RETRY_AFTER_MAX = 60.0  # a server asking for longer than this is failing, not throttling


def repeatable(method: str | None, url: str | None) -> bool:
    """Whether a request may be sent again without changing anything twice."""
    verb = (method or "").upper()
    if verb in SAFE_METHODS:
        return True
    path = urlsplit(url or "").path.rstrip("/")
    return verb == "POST" and path in IDEMPOTENT_POST_PATHS


class DataPlaneRetry(Retry):
    """urllib3's ``Retry``, with the method allow-list refined by path.

    urllib3 decides by method alone, and the token endpoints are POSTs; so POST is on
    the method list and :meth:`increment`, which also gets the URL, refuses to count a
    retry for any request :func:`repeatable` does not allow. A refused answer is handed
    back as it is; a refused connection error is raised as it is.
    """

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> DataPlaneRetry:
        if not repeatable(method, url):
            if error is not None:
                raise error.with_traceback(_stacktrace)
            raise MaxRetryError(_pool, url or "", None)
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def get_retry_after(self, response: Any) -> float | None:
        """The server's ``Retry-After``, but never more than :data:`RETRY_AFTER_MAX`."""
        asked = super().get_retry_after(response)
        return None if asked is None else min(asked, RETRY_AFTER_MAX)


def retry_policy() -> DataPlaneRetry:
    return DataPlaneRetry(
        total=TOTAL,
        backoff_factor=BACKOFF_FACTOR,
        backoff_max=BACKOFF_MAX,
        status_forcelist=TRANSIENT_STATUS,
        allowed_methods=SAFE_METHODS | {"POST"},
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
        other=0,
    )


def data_plane_session() -> requests.Session:
    """A session whose every request goes through :func:`retry_policy`."""
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry_policy())
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
