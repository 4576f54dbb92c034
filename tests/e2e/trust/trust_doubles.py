"""Doubles around the real notary-server for the trust tests: a distribution-style JWT token
issuer (for the 401 challenge flow) and an HTTPS proxy that can rewrite what is served."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from trust_servers import ISSUER, SERVICE, Pki, server_context


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class TokenIssuer:
    """A distribution-style token service: GET ?service=&scope= → ES256 JWT with x5c."""

    pki: Pki
    grant: set[str] = field(default_factory=lambda: {"pull", "push", "*"})
    requests_seen: list[str] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def realm(self) -> str:
        assert self.server is not None
        return f"https://127.0.0.1:{self.server.server_address[1]}/token"

    def start(self) -> None:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = parse_qs(urlparse(self.path).query)
                scopes = query.get("scope", [])
                issuer.requests_seen.extend(scopes)
                body = json.dumps({"token": issuer.token(scopes)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = server_context(self.pki).wrap_socket(
            self.server.socket, server_side=True
        )
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def token(self, scopes: Sequence[str]) -> str:
        access = []
        for scope in " ".join(scopes).split():
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            allowed = [a for a in actions.split(",") if a in self.grant]
            access.append({"type": kind, "name": name, "actions": allowed})
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": "tester",
            "aud": SERVICE,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        header = {
            "typ": "JWT",
            "alg": "ES256",
            "x5c": [base64.b64encode(self.pki.token_cert_der).decode()],
        }
        signing_input = (
            f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        )
        r, s = decode_dss_signature(
            self.pki.token_key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        )
        return f"{signing_input}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


@dataclass
class IssuerTokenSource:
    """A RegistryTokenSource that asks the test issuer, as the ACR flow asks /oauth2/token."""

    ca: Path
    asked: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)

    def access_token(self, *, realm: str, service: str, scopes: Sequence[str]) -> str:
        self.asked.append((realm, service, tuple(scopes)))
        params = [("service", service), *(("scope", s) for s in scopes)]
        response = requests.get(realm, params=params, verify=str(self.ca), timeout=10)
        response.raise_for_status()
        return str(response.json()["token"])


@dataclass
class TamperProxy:
    """HTTPS pass-through to a notary-server; ``rewrite`` may change any response body."""

    upstream: str
    pki: Pki
    rewrite: Callable[[str, bytes], bytes] = field(default=lambda path, body: body)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"https://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> None:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                upstream = requests.get(
                    proxy.upstream + self.path, verify=str(proxy.pki.ca), timeout=10
                )
                body = (
                    proxy.rewrite(self.path, upstream.content) if upstream.ok else upstream.content
                )
                self.send_response(upstream.status_code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = server_context(self.pki).wrap_socket(
            self.server.socket, server_side=True
        )
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
