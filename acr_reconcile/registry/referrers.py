"""The manifests that name another as their ``subject``: the OCI referrers API, or the
``sha256-<hex>`` tag schema where a registry has none (on ACR: a registry encrypted with
a customer-managed key).

``GET /v2/<name>/referrers/<digest>?artifactType=…`` answers an image index of
descriptors, paged by ``Link: <…>; rel="next"``; a registry that applied the filter says
``OCI-Filters-Applied: artifactType``, and one that did not is filtered here (the OCI
distribution spec lets a registry ignore the filter). A registry without the API answers
404 with an error code other than ``NAME_UNKNOWN`` (ACR's and the sandbox's
``UNSUPPORTED``; the spec forbids a 404 from a registry that has the API, and a missing
repository is ``NAME_UNKNOWN``). The tag schema is an image index tagged
``sha256-<hex of the subject digest>`` listing the same descriptors.

Every answer is read bounded (size and time); pages are followed only on the registry's
own host and never beyond ``MAX_PAGES``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import requests

from acr_reconcile.bounded import BodyTooLarge, BodyTooSlow, read_body
from acr_reconcile.errors import RegistryError
from acr_reconcile.notation.manifest import referrer_tag
from acr_reconcile.registry.client import RegistryClient

INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"
MAX_INDEX_BYTES = 4 * 1024 * 1024  # one page, or the tag-schema index
MAX_PAGES = 1000
DEADLINE_SECONDS = 60.0


@dataclass(frozen=True)
class Referrer:
    """One descriptor of a referrers listing."""

    digest: str
    media_type: str
    size: int
    artifact_type: str | None
    annotations: dict[str, str]


@dataclass(frozen=True)
class Referrers:
    """What a registry says refers to a manifest, and how it was found."""

    referrers: tuple[Referrer, ...]
    referrers_api: bool  # False: found through the sha256-<hex> tag schema


def _read_json(response: requests.Response, what: str) -> dict[str, Any]:
    try:
        raw = read_body(response, limit=MAX_INDEX_BYTES, deadline=time.monotonic() + 60)
    except (BodyTooLarge, BodyTooSlow) as error:
        raise RegistryError(f"{what}: the answer is {error}", transient=True) from None
    finally:
        response.close()
    try:
        data = json.loads(raw)
    except ValueError:
        raise RegistryError(f"{what}: the answer is not JSON") from None
    if not isinstance(data, dict):
        raise RegistryError(f"{what}: the answer is not an image index")
    return data


def _descriptors(data: dict[str, Any], what: str) -> list[Referrer]:
    manifests = data.get("manifests") or []
    if not isinstance(manifests, list):
        raise RegistryError(f"{what}: 'manifests' is not a list")
    found: list[Referrer] = []
    for entry in manifests:
        if not isinstance(entry, dict):
            raise RegistryError(f"{what}: a descriptor is not an object")
        digest, media_type, size = entry.get("digest"), entry.get("mediaType"), entry.get("size")
        if not isinstance(digest, str) or not isinstance(media_type, str):
            raise RegistryError(f"{what}: a descriptor lacks its digest or media type")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise RegistryError(f"{what}: descriptor {digest[:80]} has no valid size")
        artifact = entry.get("artifactType")
        annotations = entry.get("annotations") or {}
        if not isinstance(annotations, dict):
            raise RegistryError(f"{what}: descriptor {digest[:80]} has bad annotations")
        found.append(
            Referrer(
                digest=digest,
                media_type=media_type,
                size=size,
                artifact_type=artifact if isinstance(artifact, str) else None,
                annotations={str(k): str(v) for k, v in annotations.items()},
            )
        )
    return found


def _error_code(response: requests.Response) -> str | None:
    try:
        errors = json.loads(read_body(response, limit=65536, deadline=time.monotonic() + 10))
        return str(errors["errors"][0]["code"])
    except (ValueError, KeyError, IndexError, TypeError, BodyTooLarge, BodyTooSlow):
        return None
    finally:
        response.close()


def _api_pages(
    client: RegistryClient, repository: str, digest: str, artifact_type: str
) -> list[Referrer] | None:
    """Every descriptor the referrers API lists; None when the registry has no such API."""
    what = f"{client.login_server}: referrers of {repository}@{digest}"
    path = f"/v2/{repository}/referrers/{digest}?artifactType={quote(artifact_type, safe='')}"
    found: list[Referrer] = []
    host = client.login_server
    for _ in range(MAX_PAGES):
        response = client.request(
            "GET", path, repository=repository, headers={"Accept": INDEX_MEDIA_TYPE}, stream=True
        )
        if response.status_code == 404:
            code = _error_code(response)
            if code == "NAME_UNKNOWN":
                return []  # no such repository: nothing refers to anything in it
            return None
        if response.status_code != 200:
            response.close()
            raise RegistryError(f"{what}: HTTP {response.status_code}", status=response.status_code)
        applied = response.headers.get("OCI-Filters-Applied", "")
        filtered = "artifactType" in [f.strip() for f in applied.split(",")]
        following = response.links.get("next", {}).get("url")
        page = _descriptors(_read_json(response, what), what)
        found += page if filtered else [r for r in page if r.artifact_type == artifact_type]
        if not following:
            return found
        url = urljoin(f"https://{host}{path}", following)
        if urlsplit(url).netloc != host:
            raise RegistryError(f"{what}: the next page is on another host ({url[:120]})")
        path = url
    raise RegistryError(f"{what}: more than {MAX_PAGES} pages")


def tag_schema_index(
    client: RegistryClient, repository: str, digest: str
) -> tuple[list[Referrer], str | None]:
    """The ``sha256-<hex>`` index's descriptors and its digest (None: no index yet)."""
    tag = referrer_tag(digest)
    what = f"{client.login_server}: referrers index {repository}:{tag}"
    response = client.request(
        "GET",
        f"/v2/{repository}/manifests/{tag}",
        repository=repository,
        headers={"Accept": INDEX_MEDIA_TYPE},
        stream=True,
    )
    if response.status_code == 404:
        response.close()
        return [], None
    if response.status_code != 200:
        response.close()
        raise RegistryError(f"{what}: HTTP {response.status_code}", status=response.status_code)
    index_digest = response.headers.get("Docker-Content-Digest")
    return _descriptors(_read_json(response, what), what), index_digest


def referrers(
    client: RegistryClient, repository: str, digest: str, artifact_type: str
) -> Referrers:
    """The manifests of ``artifact_type`` whose subject is ``digest``, by the API when the
    registry has it, else by the tag schema."""
    listed = _api_pages(client, repository, digest, artifact_type)
    if listed is not None:
        return Referrers(tuple(listed), referrers_api=True)
    indexed, _ = tag_schema_index(client, repository, digest)
    return Referrers(
        tuple(r for r in indexed if r.artifact_type == artifact_type), referrers_api=False
    )
