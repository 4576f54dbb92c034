"""The data plane's routes: keys, secrets, certificates."""

from __future__ import annotations

from aiohttp import web

from acr_sandbox.keyvault import certificates, keys, secrets


def add(app: web.Application) -> None:
    keys.add(app)
    secrets.add(app)
    certificates.add(app)
