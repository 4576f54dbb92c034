"""The data plane's one retry policy, against a real loopback HTTP server.

Reads and the two idempotent token POSTs are asked again on 429/5xx and broken
connections; every other write (a trust upload, a push) goes out exactly once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from requests.adapters import HTTPAdapter

from acr_reconcile.registry.sessions import (
    RETRY_AFTER_MAX,
    TOTAL,
    data_plane_session,
    repeatable,
    retry_policy,
)


class Script:
    """Per (method, path): the statuses to answer in turn (then 200), and what was seen."""

    def __init__(self) -> None:
        self.plan: dict[tuple[str, str], list[int]] = {}
        self.seen: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def next_status(self, method: str, path: str) -> int:
        with self.lock:
            self.seen.append((method, path))
            queue = self.plan.get((method, path), [])
            return queue.pop(0) if queue else 200

    def count(self, method: str, path: str) -> int:
        return self.seen.count((method, path))


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            status = script.next_status(self.command, self.path)
            if status == 0:  # drop the connection without an answer
                self.close_connection = True
                self.connection.shutdown(2)
                return
            body = b'{"errors": [{"code": "X", "message": "scripted"}]}'
            self.send_response(status)
            if status in (429, 503):
                self.send_header("Retry-After", "0")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_HEAD = do_POST = do_PUT = _answer

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", script
    finally:
        httpd.shutdown()
        httpd.server_close()


def _session() -> requests.Session:
    """The product's session, with backoff off so the test does not sleep; the policy's
    class and every other setting are the product's."""
    session = data_plane_session()
    session.mount("http://", HTTPAdapter(max_retries=retry_policy().new(backoff_factor=0)))
    return session


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_a_read_answered_with_a_transient_status_is_asked_again(
    server: tuple[str, Script], status: int
) -> None:
    base, script = server
    script.plan[("GET", "/v2/repo/manifests/v1")] = [status, status]
    with _session() as session:
        response = session.get(f"{base}/v2/repo/manifests/v1", timeout=10)
    assert response.status_code == 200
    assert script.count("GET", "/v2/repo/manifests/v1") == 3


def test_a_head_cut_off_is_asked_again(server: tuple[str, Script]) -> None:
    base, script = server
    script.plan[("HEAD", "/v2/repo/manifests/v1")] = [0]
    with _session() as session:
        assert session.head(f"{base}/v2/repo/manifests/v1", timeout=10).status_code == 200
    assert script.count("HEAD", "/v2/repo/manifests/v1") == 2


@pytest.mark.parametrize("path", ["/oauth2/exchange", "/oauth2/token"])
def test_the_idempotent_token_posts_are_asked_again(server: tuple[str, Script], path: str) -> None:
    base, script = server
    script.plan[("POST", path)] = [503, 429]
    with _session() as session:
        response = session.post(f"{base}{path}", data={"grant_type": "x"}, timeout=10)
    assert response.status_code == 200
    assert script.count("POST", path) == 3


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v2/127.0.0.1:5000/repo/_trust/tuf/"),  # a trust upload
        ("POST", "/v2/repo/blobs/uploads/"),
        ("PUT", "/v2/repo/manifests/v1"),
        ("POST", "/oauth2/token/../../v2/repo/_trust/tuf/"),  # no path games
    ],
)
def test_a_write_is_sent_once_whatever_it_is_answered(
    server: tuple[str, Script], method: str, path: str
) -> None:
    base, script = server
    script.plan[(method, path)] = [503, 503]
    with _session() as session:
        request = requests.Request(method, f"{base}{path}", data=b"x").prepare()
        request.url = f"{base}{path}"  # keep the path exactly as written
        response = session.send(request, timeout=10)
    assert response.status_code == 503  # handed back, for the client to report
    assert script.count(method, path) == 1


def test_a_trust_upload_cut_off_is_not_sent_again(server: tuple[str, Script]) -> None:
    base, script = server
    path = "/v2/127.0.0.1:5000/repo/_trust/tuf/"
    script.plan[("POST", path)] = [0]
    with _session() as session, pytest.raises(requests.ConnectionError):
        session.post(f"{base}{path}", data=b"x", timeout=10)
    assert script.count("POST", path) == 1


def test_retries_are_bounded_and_the_last_answer_is_returned(server: tuple[str, Script]) -> None:
    base, script = server
    script.plan[("GET", "/v2/")] = [503] * (TOTAL + 5)
    with _session() as session:
        response = session.get(f"{base}/v2/", timeout=10)
    assert response.status_code == 503
    assert script.count("GET", "/v2/") == TOTAL + 1


def test_a_retry_after_is_honoured_but_bounded() -> None:
    class Answer:
        def __init__(self, value: str) -> None:
            self.headers = {"Retry-After": value}

    policy = retry_policy()
    assert policy.get_retry_after(Answer("3")) == 3  # type: ignore[arg-type]
    assert policy.get_retry_after(Answer("86400")) == RETRY_AFTER_MAX  # type: ignore[arg-type]
    assert policy.respect_retry_after_header


@pytest.mark.parametrize(
    ("method", "url", "allowed"),
    [
        ("GET", "/v2/x/manifests/y", True),
        ("head", "/v2/x/manifests/y", True),
        ("POST", "/oauth2/token?service=x", True),
        ("POST", "https://r.azurecr.io/oauth2/exchange", True),
        ("POST", "/oauth2/tokens", False),
        ("POST", "/v2/gun/_trust/tuf/", False),
        ("PUT", "/oauth2/token", False),
        ("DELETE", "/v2/x/manifests/y", False),
        (None, None, False),
    ],
)
def test_what_may_be_repeated(method: str | None, url: str | None, allowed: bool) -> None:
    assert repeatable(method, url) is allowed
