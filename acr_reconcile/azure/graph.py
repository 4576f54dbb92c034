"""Microsoft Graph lookups of principals, through azure-core's pipeline.

The pipeline brings the same credential (scope ``<graph>/.default``), the same TLS
trust and the same ``Retry-After``-honouring retry policy as the ARM clients.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from acr_reconcile.azure.clients import RetryOptions
from acr_reconcile.azure.cloud import Cloud
from acr_reconcile.azure.errors import translate
from acr_reconcile.azure.paging import PageGuard
from acr_reconcile.errors import AcrReconcileError

COLLECTIONS = {"ServicePrincipal": "servicePrincipals", "User": "users", "Group": "groups"}
# getByIds takes at most 1000 ids per request (Graph's documented limit)
GET_BY_IDS_LIMIT = 1000
_ODATA_TYPES = {
    "#microsoft.graph.serviceprincipal": "ServicePrincipal",
    "#microsoft.graph.user": "User",
    "#microsoft.graph.group": "Group",
}
_SELECT = {
    "servicePrincipals": "id,appId,displayName",
    "users": "id,displayName",
    "groups": "id,displayName",
}


@dataclass(frozen=True)
class GraphPrincipal:
    object_id: str
    app_id: str | None
    display_name: str
    principal_type: str


def _odata_quote(value: str) -> str:
    return value.replace("'", "''")


class GraphClient:
    def __init__(
        self, cloud: Cloud, credential: Any, verify: str | bool, retry: RetryOptions | None = None
    ) -> None:
        from azure.core import PipelineClient
        from azure.core.pipeline.policies import (
            BearerTokenCredentialPolicy,
            HeadersPolicy,
            RetryPolicy,
        )
        from azure.core.pipeline.transport import RequestsTransport

        retry = retry or RetryOptions()
        self._endpoint = cloud.graph
        self._base = f"{cloud.graph}/v1.0"
        self._client: Any = PipelineClient(
            self._base,
            policies=[
                HeadersPolicy({"Accept": "application/json"}),
                RetryPolicy(
                    retry_total=retry.total,
                    retry_backoff_factor=retry.backoff_factor,
                    retry_backoff_max=retry.backoff_max,
                ),
                BearerTokenCredentialPolicy(credential, cloud.graph_scope),
            ],
            transport=RequestsTransport(
                connection_verify=verify,
                connection_timeout=retry.timeout,
                read_timeout=retry.timeout,
            ),
        )

    def _get(self, path: str, resource: str) -> dict[str, Any] | None:
        from azure.core.exceptions import HttpResponseError, ServiceRequestError
        from azure.core.rest import HttpRequest

        try:
            url = path if path.startswith("https://") else f"{self._base}/{path}"
            response = self._client.send_request(HttpRequest("GET", url))
            if response.status_code == 404:
                return None
            response.raise_for_status()
            body = response.json()
        except (HttpResponseError, ServiceRequestError) as error:
            raise translate(error, resource, "Microsoft Graph lookup") from None
        return body if isinstance(body, dict) else None

    def by_object_id(self, object_id: str, principal_type: str) -> GraphPrincipal | None:
        collection = COLLECTIONS[principal_type]
        select = _SELECT[collection]
        body = self._get(
            f"{collection}/{quote(object_id)}?$select={select}", f"principal {object_id}"
        )
        return _principal(body, principal_type) if body else None

    def search(self, field: str, value: str, principal_type: str) -> list[GraphPrincipal]:
        """Principals of ``principal_type`` whose ``field`` (appId, displayName) equals value."""
        collection = COLLECTIONS[principal_type]
        query = quote(f"{field} eq '{_odata_quote(value)}'")
        path = f"{collection}?$filter={query}&$select={_SELECT[collection]}"
        found: list[GraphPrincipal] = []
        where = f"principal {field}={value!r}"
        guard = PageGuard(self._endpoint, f"Microsoft Graph {collection} where {where}")
        body = self._get(path, where)
        while body:
            found += [_principal(item, principal_type) for item in body.get("value", [])]
            next_link = body.get("@odata.nextLink")
            body = self._get(guard.follow(str(next_link)), where) if next_link else None
        return found

    def by_object_ids(self, object_ids: list[str]) -> list[GraphPrincipal]:
        """The users, groups and service principals among ``object_ids``, one
        ``POST /directoryObjects/getByIds`` per 1000 ids; ids Graph does not know are
        simply absent from the answer (as Graph leaves them out)."""
        found: list[GraphPrincipal] = []
        for start in range(0, len(object_ids), GET_BY_IDS_LIMIT):
            chunk = object_ids[start : start + GET_BY_IDS_LIMIT]
            body = self._post(
                "directoryObjects/getByIds",
                {"ids": chunk, "types": ["user", "group", "servicePrincipal"]},
                f"{len(chunk)} directory object(s) by id",
            )
            items = (body or {}).get("value")
            for item in items if isinstance(items, list) else []:
                if not isinstance(item, dict) or not item.get("id"):
                    continue
                kind = _ODATA_TYPES.get(str(item.get("@odata.type", "")).lower())
                if kind is not None:
                    found.append(_principal(item, kind))
        return found

    def _post(self, path: str, payload: dict[str, Any], resource: str) -> dict[str, Any] | None:
        from azure.core.exceptions import HttpResponseError, ServiceRequestError
        from azure.core.rest import HttpRequest

        try:
            request = HttpRequest("POST", f"{self._base}/{path}", json=payload)
            response = self._client.send_request(request)
            response.raise_for_status()
            body = response.json()
        except (HttpResponseError, ServiceRequestError, ValueError) as error:
            if isinstance(error, ValueError):
                raise AcrReconcileError(
                    f"Microsoft Graph lookup of {resource}: the answer is not JSON"
                ) from None
            raise translate(error, resource, "Microsoft Graph lookup") from None
        return body if isinstance(body, dict) else None

    def close(self) -> None:
        self._client.close()


def _principal(body: dict[str, Any], principal_type: str) -> GraphPrincipal:
    return GraphPrincipal(
        object_id=str(body["id"]).lower(),
        app_id=str(body["appId"]).lower() if body.get("appId") else None,
        display_name=str(body.get("displayName") or ""),
        principal_type=principal_type,
    )
