"""A stand-in for Docker Hub, so ``importImage`` from ``docker.io`` works offline.

The walkthrough imports ``docker.io/library/hello-world:latest``. The sandbox has no
internet, so it answers for Docker Hub itself: a registry of its own, not visible in ARM,
that holds for every ``repository:tag`` asked of it a tiny deterministic image made from
that name (one file in one layer). The same name always gives the same digest, so plans
and pins stay stable across runs. A digest reference (``@sha256:…``) cannot be made up
and is answered NotFound. This is a sandbox assumption, documented in docs/sandbox.md.
"""

from __future__ import annotations

from acr_sandbox.contracts import ImportFailed, RegistryRecord
from acr_sandbox.dataplane.importer import ACCEPT, _Client
from acr_sandbox.dataplane.testimage import SCHEMA2, blob_digest, build_test_image, manifest_bytes

PUBLIC_HOSTS = frozenset(
    {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
)
HUB = RegistryRecord(
    id="sandbox:public/docker.io",
    name="docker.io",
    subscription_id="",
    resource_group="",
    login_server="",
)


def is_public(location: str) -> bool:
    host = location.lower().removeprefix("https://").removeprefix("http://")
    return host.split("/")[0] in PUBLIC_HOSTS


def _reference(image: str) -> tuple[str, str]:
    """Docker Hub's spelling: a bare official image lives under ``library/``."""
    repo, sep, ref = image.rpartition("@") if "@" in image else image.rpartition(":")
    if not sep or "/" in ref:
        repo, ref = image, "latest"
    if "@" in image:
        raise ImportFailed(
            "NotFound", f"docker.io/{repo}@{ref}: the sandbox's Docker Hub serves tags only"
        )
    return (repo if "/" in repo else f"library/{repo}"), ref


async def ensure_image(hub: _Client, image: str) -> str:
    """Make sure the stand-in holds ``image``; its ``repository:tag`` on the hub."""
    repo, tag = _reference(image)
    head = await hub.call(
        repo, "HEAD", f"/v2/{repo}/manifests/{tag}", ok=(200, 404), headers={"Accept": ACCEPT}
    )
    head.release()
    if head.status == 200:
        return f"{repo}:{tag}"
    made = build_test_image(f"docker.io/{repo}:{tag}")
    for blob in (made.config, made.layer):
        start = await hub.call(repo, "POST", f"/v2/{repo}/blobs/uploads/", ok=(202,))
        location = start.headers["Location"]
        start.release()
        sep = "&" if "?" in location else "?"
        put = await hub.call(
            repo,
            "PUT",
            f"{location}{sep}digest={blob_digest(blob)}",
            ok=(201,),
            headers={"Content-Type": "application/octet-stream"},
            data=blob,
        )
        put.release()
    manifest = await hub.call(
        repo,
        "PUT",
        f"/v2/{repo}/manifests/{tag}",
        ok=(201,),
        headers={"Content-Type": SCHEMA2},
        data=manifest_bytes(made),
    )
    manifest.release()
    return f"{repo}:{tag}"
