"""Keeping the run's secrets out of what it prints.

A server's error text is the server's word: a token service that echoes its request puts
our Entra token into the message we would print. So every secret the run holds (client
secret, key passphrases, the tokens our code handles) is remembered here, and any text
that came from a server goes through :func:`echo` (secrets and anything JWT-shaped
replaced, cut to a bounded length) before it becomes part of an error. The CLI passes
every message through :func:`redact` once more before printing it.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import quote, quote_plus

REDACTED = "[redacted]"
MAX_ECHO = 300  # characters of server text kept in one message
# Shorter values are not secrets worth the noise of replacing them everywhere.
MIN_SECRET = 6
# A JWT (header.payload.signature, base64url) — every Entra and ACR token has this shape.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")

_lock = threading.Lock()
_secrets: set[str] = set()


def remember(*values: str | None) -> None:
    """Record secrets of this run so no message can carry them."""
    kept = [v for v in values if v and len(v) >= MIN_SECRET]
    # as they are, and as a form or query string carries them (an echo quotes those)
    with _lock:
        _secrets.update(kept)
        _secrets.update(quote_plus(v) for v in kept)
        _secrets.update(quote(v, safe="") for v in kept)


def redact(text: str) -> str:
    """``text`` with every remembered secret, JWT and bearer credential replaced."""
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _JWT.sub(REDACTED, text)
    return _BEARER.sub(lambda m: m.group(1) + REDACTED, text)


def echo(text: object, limit: int = MAX_ECHO) -> str:
    """Server-provided ``text`` made safe to quote: redacted, on one line, at most
    ``limit`` characters (redaction first, so a cut cannot leave half a secret behind)."""
    flat = " ".join(redact(str(text)).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
