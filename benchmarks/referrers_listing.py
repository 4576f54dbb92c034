"""How many OCI referrers listings per second a sandbox loginServer answers.

Starts a sandbox of its own, creates a Premium registry, pushes one image and 20
signature-like artifacts whose ``subject`` is that image, then drives
``GET /v2/<repo>/referrers/<digest>`` from a few keep-alive connections for a fixed time.
The same run measures ``GET /v2/<repo>/tags/list`` (proxied to docker-registry) as the
baseline, so the figure reads against this machine's own proxying speed. Target: at
least 1,000 listings/s on 2 cores. Run: ``python -m benchmarks referrers_listing``.
"""

from __future__ import annotations

import hashlib
import json
import os
import ssl
from pathlib import Path
from typing import Any

import requests

from benchmarks._load import drive
from benchmarks._sandbox import run_on_private_sandbox

DURATION_SECONDS = float(os.environ.get("REFERRERS_BENCH_SECONDS", "5"))
CONNECTIONS = int(os.environ.get("REFERRERS_BENCH_CONNECTIONS", "8"))
REFERRERS = 20
TARGET_PER_SECOND = 1000
REPO = "bench/app"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class _Pusher:
    def __init__(self, sandbox: Any, login_server: str) -> None:
        self.base = f"https://{login_server}"
        self.verify = sandbox.ca_bundle
        entra = sandbox.credential().get_token("https://containerregistry.azure.net/.default")
        form = {"grant_type": "access_token", "service": login_server, "access_token": entra.token}
        refresh = self._post("/oauth2/exchange", form)["refresh_token"]
        form = {
            "grant_type": "refresh_token",
            "service": login_server,
            "scope": f"repository:{REPO}:pull,push",
            "refresh_token": refresh,
        }
        self.token = str(self._post("/oauth2/token", form)["access_token"])
        self.headers = {"Authorization": f"Bearer {self.token}"}

    def _post(self, path: str, form: dict[str, str]) -> Any:
        response = requests.post(self.base + path, data=form, verify=self.verify, timeout=30)
        response.raise_for_status()
        return response.json()

    def blob(self, data: bytes) -> dict[str, Any]:
        url = f"{self.base}/v2/{REPO}/blobs/uploads/"
        start = requests.post(url, headers=self.headers, verify=self.verify, timeout=30)
        location = requests.compat.urljoin(url, start.headers["Location"])
        sep = "&" if "?" in location else "?"
        put = requests.put(
            f"{location}{sep}digest={_digest(data)}",
            data=data,
            headers=self.headers | {"Content-Type": "application/octet-stream"},
            verify=self.verify,
            timeout=30,
        )
        put.raise_for_status()
        return {"digest": _digest(data), "size": len(data)}

    def manifest(self, ref: str, body: dict[str, Any]) -> dict[str, Any]:
        raw = json.dumps(body).encode()
        response = requests.put(
            f"{self.base}/v2/{REPO}/manifests/{ref}",
            data=raw,
            headers=self.headers | {"Content-Type": body["mediaType"]},
            verify=self.verify,
            timeout=30,
        )
        response.raise_for_status()
        return {"mediaType": body["mediaType"], "digest": _digest(raw), "size": len(raw)}


def _content(pusher: _Pusher) -> str:
    oci = "application/vnd.oci.image.manifest.v1+json"
    empty = pusher.blob(b"{}") | {"mediaType": "application/vnd.oci.empty.v1+json"}
    layer = pusher.blob(b"subject layer") | {"mediaType": "application/octet-stream"}
    subject = pusher.manifest(
        "v1", {"schemaVersion": 2, "mediaType": oci, "config": empty, "layers": [layer]}
    )
    for i in range(REFERRERS):
        envelope = pusher.blob(f"signature {i}".encode()) | {"mediaType": "application/jose+json"}
        body = {
            "schemaVersion": 2,
            "mediaType": oci,
            "artifactType": "application/vnd.cncf.notary.signature",
            "config": empty,
            "layers": [envelope],
            "subject": subject,
            "annotations": {"io.cncf.notary.x509chain.thumbprint#S256": f'["{i:064x}"]'},
        }
        pusher.manifest(_digest(json.dumps(body).encode()), body)
    return str(subject["digest"])


def _run(sandbox: Any, _work: Path) -> None:
    from azure.mgmt.containerregistry.models import Registry, Sku

    clients = sandbox.clients()
    clients.resources.resource_groups.create_or_update("bench", {"location": "westeurope"})
    registry = clients.registries.registries.begin_create(
        "bench", "benchreferrers", Registry(location="westeurope", sku=Sku(name="Premium"))
    ).result()
    pusher = _Pusher(sandbox, str(registry.login_server))
    subject = _content(pusher)
    context = ssl.create_default_context(cafile=sandbox.ca_bundle)
    listing = f"{pusher.base}/v2/{REPO}/referrers/{subject}"
    check = requests.get(listing, headers=pusher.headers, verify=pusher.verify, timeout=30)
    found = len(check.json()["manifests"])
    if found != REFERRERS:
        raise SystemExit(f"referrers listing returned {found} descriptors, expected {REFERRERS}")
    load = {"connections": CONNECTIONS, "seconds": DURATION_SECONDS}
    listed = drive(listing, pusher.token, context, **load)
    base = drive(f"{pusher.base}/v2/{REPO}/tags/list", pusher.token, context, **load)
    done, errors, elapsed = listed.done, listed.errors, listed.elapsed
    base_done, base_errors = base.done, base.errors
    rate, baseline = listed.rate, base.rate
    verdict = "meets" if rate >= TARGET_PER_SECOND and not errors else "BELOW"
    print(
        f"referrers listing ({REFERRERS} descriptors): {rate:,.0f} listings/s over "
        f"{elapsed:.1f} s with {CONNECTIONS} keep-alive connections ({done:,} ok, {errors} "
        f"errors); {verdict} the {TARGET_PER_SECOND:,}/s target"
    )
    print(
        f"baseline, tags/list proxied to docker-registry: {baseline:,.0f} requests/s "
        f"({base_done:,} ok, {base_errors} errors); referrers/baseline = {rate / baseline:.1f}x"
    )


def main() -> None:
    run_on_private_sandbox("referrers-bench", _run)


if __name__ == "__main__":
    main()
