"""Cloud metadata, ``GET /metadata/endpoints?api-version=2022-09-01``: the document
``az cloud register`` and Terraform read to learn a custom cloud's endpoints.

Same shape as Azure's 2022-09-01 answer (one object; older api-versions answer a list of
clouds), every endpoint pointing at the sandbox, plus the extension object
``x-acr-reconcile-sandbox`` that states which content trust rules the sandbox applies.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from acr_sandbox.arm.errors import json_response
from acr_sandbox.context import Sandbox, ctx
from acr_sandbox.keyvault import names as keyvault_names

EXTENSION = "x-acr-reconcile-sandbox"
LIST_SHAPED_VERSIONS = ("2015-01-01", "2018-01-01", "2019-05-01", "2020-06-01")


def document(sandbox: Sandbox) -> dict[str, Any]:
    base = sandbox.base_url
    legacy = sandbox.settings.get("dct") == "legacy"
    return {
        "portal": f"{base}/portal",
        "authentication": {
            "loginEndpoint": f"{base}/",
            "audiences": [
                "https://management.core.windows.net/",
                "https://management.azure.com/",
            ],
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "media": f"{base}/media/",
        "graphAudience": f"{base}/graph/",
        "graph": f"{base}/graph/",
        "name": "AcrReconcileSandbox",
        "suffixes": {
            "azureDataLakeStoreFileSystem": "datalake.sandbox.invalid",
            "acrLoginServer": "azurecr.io",
            "sqlServerHostname": "database.sandbox.invalid",
            "azureDataLakeAnalyticsCatalogAndJob": "analytics.sandbox.invalid",
            "keyVaultDns": keyvault_names.dns_suffix(sandbox.store.data),
            "storage": "core.sandbox.invalid",
            "azureFrontDoorEndpointSuffix": "azurefd.sandbox.invalid",
            "storageSyncEndpointSuffix": "afs.sandbox.invalid",
            "mhsmDns": "managedhsm.sandbox.invalid",
            "mysqlServerEndpoint": "mysql.sandbox.invalid",
            "postgresqlServerEndpoint": "postgres.sandbox.invalid",
            "mariadbServerEndpoint": "mariadb.sandbox.invalid",
            "synapseAnalytics": "dev.sandbox.invalid",
            "attestationEndpoint": "attest.sandbox.invalid",
        },
        "batch": f"{base}/batch/",
        "resourceManager": f"{base}/",
        "vmImageAliasDoc": f"{base}/aliases.json",
        "activeDirectoryDataLake": f"{base}/datalake/",
        "sqlManagement": f"{base}/sql/",
        "microsoftGraphResourceId": f"{base}/",
        "appInsightsResourceId": f"{base}/appinsights",
        "appInsightsTelemetryChannelResourceId": f"{base}/appinsights/v2/track",
        "attestationResourceId": f"{base}/attestation",
        "synapseAnalyticsResourceId": f"{base}/synapse",
        "logAnalyticsResourceId": f"{base}/loganalytics",
        "ossrDbmsResourceId": f"{base}/ossrdbms",
        EXTENSION: {
            "contentTrustNewEnablement": "allowed" if legacy else "retired",
            "dctMode": "legacy" if legacy else "current",
            "documentation": "docs/sandbox.md",
        },
    }


async def endpoints(request: web.Request) -> web.Response:
    body = document(ctx(request))
    if request.query.get("api-version", "2022-09-01") in LIST_SHAPED_VERSIONS:
        return json_response([body])
    return json_response(body)
