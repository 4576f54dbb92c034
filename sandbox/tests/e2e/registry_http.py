"""Plain HTTP to a loginServer with the token flow every Azure client uses (Entra token →
``/oauth2/exchange`` → ``/oauth2/token`` for the challenged scope), for the calls no SDK
makes (the OCI referrers API, raw manifest PUTs whose headers matter)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import requests

from acr_sandbox.dataplane.testimage import SCHEMA2, build_test_image, manifest_bytes
from acr_sandbox.testing import SandboxHandle

AUDIENCE = "https://containerregistry.azure.net"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
EMPTY = b"{}"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class RegistryHttp:
    def __init__(self, sandbox: SandboxHandle, login_server: str) -> None:
        self.sandbox = sandbox
        self.login_server = login_server
        self._refresh: str | None = None
        self._tokens: dict[str, str] = {}

    def raw(self, method: str, path: str, **kw: Any) -> requests.Response:
        url = path if path.startswith("https://") else f"https://{self.login_server}{path}"
        return requests.request(method, url, verify=self.sandbox.ca_bundle, timeout=30, **kw)

    def token(self, scope: str) -> str:
        """An access token for ``scope``, fetched once (they last 20 minutes)."""
        if scope in self._tokens:
            return self._tokens[scope]
        if self._refresh is None:
            entra = self.sandbox.credential().get_token(f"{AUDIENCE}/.default").token
            form = {
                "grant_type": "access_token",
                "service": self.login_server,
                "access_token": entra,
            }
            self._refresh = str(
                self.raw("POST", "/oauth2/exchange", data=form).json()["refresh_token"]
            )
        form = {
            "grant_type": "refresh_token",
            "service": self.login_server,
            "scope": scope,
            "refresh_token": self._refresh,
        }
        token = str(self.raw("POST", "/oauth2/token", data=form).json()["access_token"])
        self._tokens[scope] = token
        return token

    def call(self, method: str, path: str, scope: str, **kw: Any) -> requests.Response:
        headers = dict(kw.pop("headers", {}) or {})
        headers["Authorization"] = f"Bearer {self.token(scope)}"
        return self.raw(method, path, headers=headers, **kw)

    def push_blob(self, repo: str, data: bytes) -> str:
        scope = f"repository:{repo}:pull,push"
        start = self.call("POST", f"/v2/{repo}/blobs/uploads/", scope)
        assert start.status_code == 202, start.text
        location = start.headers["Location"]
        sep = "&" if "?" in location else "?"
        put = self.call(
            "PUT",
            f"{location}{sep}digest={digest_of(data)}",
            scope,
            data=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        assert put.status_code == 201, put.text
        return digest_of(data)

    def push_manifest(self, repo: str, ref: str, body: bytes, media_type: str) -> requests.Response:
        response = self.call(
            "PUT",
            f"/v2/{repo}/manifests/{ref}",
            f"repository:{repo}:pull,push",
            data=body,
            headers={"Content-Type": media_type},
        )
        assert response.status_code == 201, response.text
        return response

    def push_image(self, repo: str, seed: str, tag: str) -> tuple[str, int]:
        """A small image under ``tag``: its digest and manifest size."""
        image = build_test_image(seed)
        self.push_blob(repo, image.config)
        self.push_blob(repo, image.layer)
        body = manifest_bytes(image)
        self.push_manifest(repo, tag, body, SCHEMA2)
        return digest_of(body), len(body)

    def push_referrer(
        self,
        repo: str,
        subject: tuple[str, int],
        artifact_type: str,
        payload: bytes,
        annotations: dict[str, str] | None = None,
        tag: str | None = None,
    ) -> tuple[str, requests.Response]:
        """An OCI artifact manifest whose ``subject`` is ``subject`` (digest, size)."""
        self.push_blob(repo, EMPTY)
        self.push_blob(repo, payload)
        manifest: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": artifact_type,
            "config": {
                "mediaType": "application/vnd.oci.empty.v1+json",
                "digest": digest_of(EMPTY),
                "size": 2,
            },
            "layers": [
                {
                    "mediaType": "application/octet-stream",
                    "digest": digest_of(payload),
                    "size": len(payload),
                }
            ],
            "subject": {"mediaType": SCHEMA2, "digest": subject[0], "size": subject[1]},
        }
        if annotations:
            manifest["annotations"] = annotations
        body = json.dumps(manifest).encode()
        digest = digest_of(body)
        return digest, self.push_manifest(repo, tag or digest, body, OCI_MANIFEST)

    def referrers(self, repo: str, subject: str, **query: str) -> requests.Response:
        return self.call(
            "GET", f"/v2/{repo}/referrers/{subject}", f"repository:{repo}:pull", params=query
        )

    def raw_manifest(self, repo: str, ref: str) -> bytes:
        accept = ", ".join([OCI_MANIFEST, OCI_INDEX, SCHEMA2])
        response = self.call(
            "GET",
            f"/v2/{repo}/manifests/{ref}",
            f"repository:{repo}:pull",
            headers={"Accept": accept},
        )
        assert response.status_code == 200, response.text
        return response.content
