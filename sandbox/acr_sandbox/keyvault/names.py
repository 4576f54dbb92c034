"""Vault names and hostnames.

Every vault's data plane answers on ``https://<vault>.vault.localhost:<port>``: one HTTPS
listener for all vaults (as Azure serves every vault on 443 of its own name), told apart by
the ``Host`` header. ``*.localhost`` resolves to loopback through glibc's ``myhostname``
NSS module (Debian ``libnss-myhostname``), and the challenge names the resource
``https://vault.localhost:<port>``, of which the vault host is a dot-suffix match, so the
SDKs' challenge-resource check passes with its default settings, as it does for
``<vault>.vault.azure.net`` against ``https://vault.azure.net``.
"""

from __future__ import annotations

import re
from typing import Any

ZONE = "vault.localhost"
PORT_KEY = "keyVaultPort"
# 3-24 characters, letters/digits/hyphens, starting with a letter, ending with a letter or
# digit, no consecutive hyphens (Azure's documented vault naming rule).
NAME = re.compile(r"^(?!.*--)[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$")


def port_of(data: dict[str, Any]) -> int:
    return int(data.get(PORT_KEY) or 0)


def dns_suffix(data: dict[str, Any]) -> str:
    """The cloud metadata's ``keyVaultDns``: the zone, with the data plane's port."""
    return f"{ZONE}:{port_of(data)}"


def vault_uri(data: dict[str, Any], name: str) -> str:
    return f"https://{name.lower()}.{dns_suffix(data)}/"


def resource(data: dict[str, Any]) -> str:
    """The challenge's ``resource``; tokens for it (or for vault.azure.net) are accepted."""
    return f"https://{dns_suffix(data)}"


def vault_of_host(host: str, port: int) -> str | None:
    """The vault name a ``Host`` header names, or None for any other host."""
    wanted = f".{ZONE}:{port}"
    host = host.lower()
    if not host.endswith(wanted):
        return None
    name = host[: -len(wanted)]
    return name if NAME.match(name) else None
