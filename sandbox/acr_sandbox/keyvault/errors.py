"""Key Vault's data-plane error envelope, ``{"error": {"code", "message", "innererror"}}``
(the KeyVaultError of the data-plane specs), as an exception handlers raise."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

SERVICE_VERSION = "1.9.3019.1"  # x-ms-keyvault-service-version, as a recent real answer
RECOVER_HINT = (
    "If you recently deleted this {kind} you may be able to recover it using the correct "
    "recovery command. For help resolving this issue, please see "
    "https://go.microsoft.com/fwlink/?linkid=2125182"
)


class KeyVaultError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        inner: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.inner = inner
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.inner:
            error["innererror"] = {"code": self.inner}
        return {"error": error}

    def response(self) -> web.Response:
        return kv_json(self.body(), status=self.status, headers=self.headers)


def kv_json(body: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    response = web.Response(
        body=json.dumps(body, separators=(",", ":")).encode(),
        status=status,
        headers=headers,
        content_type="application/json",
        charset="utf-8",
    )
    response.headers["x-ms-keyvault-service-version"] = SERVICE_VERSION
    response.headers["Cache-Control"] = "no-cache"
    return response


def bad_parameter(message: str) -> KeyVaultError:
    return KeyVaultError(400, "BadParameter", message)


def not_found(kind: str, name: str) -> KeyVaultError:
    """``KeyNotFound`` / ``SecretNotFound`` / ``CertificateNotFound`` with Azure's wording."""
    code = {"key": "KeyNotFound", "secret": "SecretNotFound", "certificate": "CertificateNotFound"}
    return KeyVaultError(
        404,
        code[kind],
        f"A {kind} with (name/id) {name} was not found in this key vault. "
        + RECOVER_HINT.format(kind=kind),
    )
