"""Which cloud the tool talks to, and what that cloud allows.

Azure public cloud is the default. Any other cloud (sovereign clouds, Azure Stack, the
local sandbox) is described by ARM's own metadata document, found from the host name in
``ARM_METADATA_HOSTNAME`` — the same discovery ``az cloud register`` and Terraform use —
so the tool runs one code path everywhere and never hard-codes a second cloud.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from acr_reconcile.errors import ConfigError

METADATA_API_VERSION = "2022-09-01"
SANDBOX_EXTENSION = "x-acr-reconcile-sandbox"
PUBLIC_CLOUD_NAME = "AzureCloud"


@dataclass(frozen=True)
class Cloud:
    """Endpoints of one cloud; URLs carry no trailing slash."""

    name: str
    resource_manager: str  # e.g. https://management.azure.com
    authority_host: str  # e.g. https://login.microsoftonline.com
    graph: str  # Microsoft Graph, e.g. https://graph.microsoft.com
    arm_audience: str  # token audience for ARM
    acr_suffix: str  # login server suffix, e.g. azurecr.io
    is_public: bool = False
    # contentTrustNewEnablement from the sandbox extension ("allowed" | "retired"), if any
    sandbox_trust_enablement: str | None = None

    @property
    def arm_scope(self) -> str:
        return f"{self.arm_audience}/.default"

    @property
    def graph_scope(self) -> str:
        return f"{self.graph}/.default"


PUBLIC_CLOUD = Cloud(
    name=PUBLIC_CLOUD_NAME,
    resource_manager="https://management.azure.com",
    authority_host="https://login.microsoftonline.com",
    graph="https://graph.microsoft.com",
    arm_audience="https://management.azure.com",
    acr_suffix="azurecr.io",
    is_public=True,
)


def _strip(url: str) -> str:
    return url.rstrip("/")


def parse_metadata(document: Mapping[str, Any], source: str) -> Cloud:
    """A Cloud from an ARM ``metadata/endpoints`` document (2022-09-01 shape)."""
    try:
        auth = document["authentication"]
        arm = _strip(str(document["resourceManager"]))
        audiences = [_strip(str(a)) for a in auth.get("audiences") or [arm]]
        extension = document.get(SANDBOX_EXTENSION) or {}
        return Cloud(
            name=str(document.get("name") or "custom"),
            resource_manager=arm,
            authority_host=_strip(str(auth["loginEndpoint"])),
            graph=_strip(str(document["microsoftGraphResourceId"])),
            # the audience that names ARM itself, as the SDK's default scope does
            arm_audience=arm if arm in audiences else audiences[0],
            acr_suffix=str((document.get("suffixes") or {}).get("acrLoginServer", "")),
            is_public=document.get("name") == PUBLIC_CLOUD_NAME,
            sandbox_trust_enablement=extension.get("contentTrustNewEnablement"),
        )
    except (KeyError, TypeError, IndexError, AttributeError) as error:
        raise ConfigError(
            f"{source}: cloud metadata lacks a required field ({error}); expected the ARM "
            f"metadata/endpoints document of api-version {METADATA_API_VERSION}"
        ) from None


def metadata_url(hostname: str) -> str:
    host = hostname.strip().removeprefix("https://").rstrip("/")
    return f"https://{host}/metadata/endpoints?api-version={METADATA_API_VERSION}"


def ca_bundle(env: Mapping[str, str] | None = None) -> str | bool:
    """What to verify TLS with: the bundle the machine names, else the default trust store."""
    env = os.environ if env is None else env
    return env.get("REQUESTS_CA_BUNDLE") or env.get("CURL_CA_BUNDLE") or True


def load_cloud(env: Mapping[str, str] | None = None) -> Cloud:
    """The cloud named by ``ARM_METADATA_HOSTNAME``, or Azure public cloud."""
    env = os.environ if env is None else env
    hostname = env.get("ARM_METADATA_HOSTNAME", "").strip()
    if not hostname:
        return PUBLIC_CLOUD
    import requests

    url = metadata_url(hostname)
    try:
        response = requests.get(url, verify=ca_bundle(env), timeout=30)
    except requests.RequestException as error:
        raise ConfigError(
            f"ARM_METADATA_HOSTNAME={hostname}: cannot read cloud metadata from {url}: "
            f"{type(error).__name__}"
        ) from None
    if response.status_code != 200:
        raise ConfigError(
            f"ARM_METADATA_HOSTNAME={hostname}: {url} answered HTTP {response.status_code}"
        )
    try:
        document = response.json()
    except ValueError:
        raise ConfigError(f"ARM_METADATA_HOSTNAME={hostname}: {url} did not answer JSON") from None
    if not isinstance(document, dict):
        raise ConfigError(f"ARM_METADATA_HOSTNAME={hostname}: {url} did not answer an object")
    return parse_metadata(document, url)
