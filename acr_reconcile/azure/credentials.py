"""The one credential every Azure call uses: azure-identity's DefaultAzureCredential.

Environment variables (service principal, workload identity federation), managed
identity and the Azure CLI all work unchanged; the authority comes from
``AZURE_AUTHORITY_HOST`` or the cloud's metadata, so a sovereign cloud or the sandbox
needs no code path of its own. azure.identity is imported only when a credential is built.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from acr_reconcile.azure.cloud import Cloud, ca_bundle
from acr_reconcile.errors import ConfigError
from acr_reconcile.redact import echo, remember


def authority_host(cloud: Cloud, env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    return (env.get("AZURE_AUTHORITY_HOST") or cloud.authority_host).rstrip("/")


def make_credential(cloud: Cloud, env: Mapping[str, str] | None = None) -> Any:
    """DefaultAzureCredential for ``cloud``; instance discovery only on Azure public cloud.

    Instance discovery asks login.microsoftonline.com which authorities exist, which a
    sovereign cloud, Azure Stack or an offline sandbox cannot answer.
    """
    from azure.identity import DefaultAzureCredential

    env = os.environ if env is None else env
    remember(env.get("AZURE_CLIENT_SECRET"))
    return DefaultAzureCredential(
        authority=authority_host(cloud, env),
        disable_instance_discovery=not cloud.is_public,
        connection_verify=ca_bundle(env),
        exclude_interactive_browser_credential=True,
    )


def access_token(credential: Any, scope: str) -> str:
    """A bearer token for ``scope``; failures become a ConfigError that names the scope."""
    from azure.core.exceptions import ClientAuthenticationError

    try:
        token: str = credential.get_token(scope).token
        remember(token)
    except ClientAuthenticationError as error:
        raise ConfigError(
            f"no Azure credential could get a token for {scope}: {_first_line(error)}. "
            "Set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or "
            "AZURE_FEDERATED_TOKEN_FILE), use a managed identity, or run 'az login'"
        ) from None
    return token


def _first_line(error: Exception) -> str:
    """The line that says why: a chained credential's first line is only "failed to
    retrieve a token from the included credentials"; the attempt that got an answer from
    Entra (AADSTS…, not "unavailable") is the one a user can act on."""
    text = str(getattr(error, "message", None) or error).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    answered = [
        line
        for line in lines[1:]
        if re.match(r"^\w+Credential: ", line) and "unavailable" not in line.lower()
    ]
    chosen = answered[0] if answered else (lines[0] if lines else "")
    # Entra's words: a token service may echo the request, secret included
    return echo(chosen.rstrip(".")) if chosen else type(error).__name__


def token_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified: we only read our own token's identity claims
    (whatever its ``aud``, a string or a list as RFC 7519 allows)."""
    import jwt

    try:
        claims: Any = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return {}
    return claims if isinstance(claims, dict) else {}


def caller_object_id(credential: Any, cloud: Cloud) -> str | None:
    """The signed-in principal's object id (``oid``), so prune never removes our own access."""
    oid = token_claims(access_token(credential, cloud.arm_scope)).get("oid")
    return str(oid).lower() if oid else None


def caller_principal_type(credential: Any, cloud: Cloud) -> str | None:
    """``ServicePrincipal`` for an app-only token (``idtyp: app``), ``User`` for a delegated
    one (it has ``scp``): a role assignment for the caller names its type, as ARM checks it."""
    claims = token_claims(access_token(credential, cloud.arm_scope))
    if claims.get("idtyp") == "app":
        return "ServicePrincipal"
    if claims.get("idtyp") == "user" or "scp" in claims:
        return "User"
    return None


def caller_tenant_id(credential: Any, cloud: Cloud) -> str | None:
    """The tenant (``tid``) of the signed-in principal: a new vault belongs to it."""
    tid = token_claims(access_token(credential, cloud.arm_scope)).get("tid")
    return str(tid) if tid else None
