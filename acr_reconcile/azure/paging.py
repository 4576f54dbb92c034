"""Following ``nextLink`` pages of ARM and Microsoft Graph lists, within bounds.

A next-page link is the server's word: the SDK (and our Graph loop) would send the bearer
token to whatever URL it names and follow it for ever. A link is followed only when it is
an https URL on the endpoint's own host and port, has not been seen before in the same
list, and the list has not yet reached ``MAX_PAGES`` pages; otherwise the list ends in a
:class:`TerminalAzureError` naming the list and the link, before anything is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from acr_reconcile.errors import TerminalAzureError

# Far above any real list (4,000 role assignments per subscription at ARM's page sizes; a
# fleet of thousands of registries), far below a loop's tens of thousands of pages.
MAX_PAGES = 1000


def _origin(url: str) -> tuple[str, str, int | None]:
    try:
        parts = urlsplit(url)
        default = 443 if parts.scheme == "https" else None
        return parts.scheme, (parts.hostname or "").lower(), parts.port or default
    except ValueError:
        return "", "", None


class PageGuard:
    """The checks on the next-page links of one list call."""

    def __init__(self, endpoint: str, where: str, max_pages: int | None = None) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.where = where
        self.max_pages = MAX_PAGES if max_pages is None else max_pages
        self._origin = _origin(endpoint)
        self._seen: set[str] = set()
        self.pages = 1

    def follow(self, link: str) -> str:
        """``link`` when it may be requested; else a TerminalAzureError."""
        shown = link if len(link) <= 200 else link[:200] + "…"
        if _origin(link) != self._origin or self._origin[0] != "https":
            raise TerminalAzureError(
                self.where,
                f"the next-page link {shown!r} is not on {self.endpoint}; "
                "it was not followed (the list is incomplete)",
            )
        if link in self._seen:
            raise TerminalAzureError(
                self.where,
                f"the server sent the next-page link {shown!r} a second time after "
                f"{self.pages} page(s); a list that loops is not followed",
            )
        if self.pages >= self.max_pages:
            raise TerminalAzureError(
                self.where, f"the list goes on beyond {self.max_pages} pages; stopped there"
            )
        self._seen.add(link)
        self.pages += 1
        return link


def all_items(paged: Any, guard: PageGuard) -> Iterator[Any]:
    """The items of an azure-core ``ItemPaged``, page by page, each next link guarded.

    ``by_page()`` exposes the next link as ``continuation_token`` after each page and
    requests it only when asked for the next page, so the check comes before the request.
    """
    pages = paged.by_page()
    while True:
        try:
            page: Iterable[Any] = next(pages)
        except StopIteration:
            return
        yield from page
        link = getattr(pages, "continuation_token", None)
        if not link:
            return
        guard.follow(str(link))
