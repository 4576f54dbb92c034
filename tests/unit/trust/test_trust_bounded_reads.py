"""Trust metadata is read no further than the length its parent lists, else notary's caps
(100 MiB, a timestamp 1 MiB), and no longer than a total deadline: an oversized or a
drip-fed answer is one clear error, not a run that fills memory or never ends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from acr_reconcile.errors import TrustDataInvalid, TrustServerError
from acr_reconcile.trust import notary
from acr_reconcile.trust.notary import NotaryHttp
from tests.support.fake_https import FakeServer, Reply

GUN = "registry.test/hello"
Serve = Callable[[Reply], NotaryHttp]


@pytest.fixture
def serve(certs: tuple[Path, Path, Path]) -> Iterator[Serve]:
    made: list[FakeServer] = []

    def start(reply: Reply) -> NotaryHttp:
        server = FakeServer(certs, lambda seen: reply)
        made.append(server)
        return NotaryHttp(server.url(), None, str(certs[0]), timeout=10, deadline=1.5)

    yield start
    for server in made:
        server.stop()


def test_a_timestamp_over_1_mib_without_a_length_is_refused(serve: Serve) -> None:
    http = serve(Reply(200, body=b" " * (notary.MAX_TIMESTAMP + 1), length=-1))
    with pytest.raises(TrustServerError, match=r"timestamp\.json .* larger than 1 MiB"):
        http.get_meta(GUN, "timestamp")


def test_a_root_declared_over_100_mib_is_refused_before_it_is_read(serve: Serve) -> None:
    http = serve(Reply(200, body=b"{}", length=notary.MAX_METADATA + 1))
    with pytest.raises(TrustServerError, match=r"root\.json .* larger than 100 MiB"):
        http.get_meta(GUN, "root")


def test_a_root_over_100_mib_is_refused_at_the_cap(
    serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cap holds while streaming too (the cap is lowered so the test stays light)."""
    monkeypatch.setattr(notary, "MAX_METADATA", 3 * 1024 * 1024)
    http = serve(Reply(200, body=b"x" * (4 * 1024 * 1024), length=-1))
    with pytest.raises(TrustServerError, match="larger than 3 MiB"):
        http.get_meta(GUN, "root")


def test_a_file_longer_than_its_parent_lists_is_invalid(serve: Serve) -> None:
    http = serve(Reply(200, body=b"x" * 5000, length=-1))
    with pytest.raises(TrustDataInvalid, match="longer than the 100 bytes its parent role lists"):
        http.get_meta(GUN, "snapshot", "ab" * 32, length=100)


def test_a_file_of_the_listed_length_is_read(serve: Serve) -> None:
    http = serve(Reply(200, body=b"x" * 100))
    assert http.get_meta(GUN, "snapshot", "ab" * 32, length=100) == b"x" * 100


def test_a_drip_fed_answer_ends_at_the_deadline(serve: Serve) -> None:
    """One byte every 0.1 s never trips a per-read timeout; the total deadline ends it."""
    http = serve(Reply(200, body=b"{" * 200, drip=0.1))
    with pytest.raises(TrustServerError, match=r"did not arrive within 1\.5 s"):
        http.get_meta(GUN, "root")


def test_an_error_body_is_read_only_in_part(serve: Serve) -> None:
    body = b'{"errors":[{"code":"X","message":"' + b"m" * (10 * 1024 * 1024) + b'"}]}'
    http = serve(Reply(400, body=body, length=-1))
    with pytest.raises(TrustServerError, match="HTTP 400"):
        http.get_meta(GUN, "root")
