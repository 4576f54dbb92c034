"""Registries kept apart, importImage, and loginServers that survive restarts and deletion."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
import requests

from acr_reconcile.errors import RegistryError
from acr_reconcile.registry.acr_auth import AcrTokenSource
from acr_reconcile.registry.client import MANIFEST_MEDIA_TYPES, RegistryClient
from acr_sandbox.contracts import ImportFailed
from acr_sandbox.dataplane.backends import free_port
from acr_sandbox.dataplane.pki import create_ca, issue
from acr_sandbox.dataplane.scopes import ACR_IMAGE_SIGNER, ACR_PULL, ACR_PUSH
from tests.e2e.dataplane.dataplane_harness import BearerCredential, DataPlaneHarness, run_notary
from tests.support.images import push_test_image

pytestmark = pytest.mark.e2e
LIST_TYPE = MANIFEST_MEDIA_TYPES[1]


def test_two_registries_keep_their_repositories_apart(
    dataplane: DataPlaneHarness, tmp_path: Path
) -> None:
    rec_a, ls_a = dataplane.create_registry("aparta")
    rec_b, ls_b = dataplane.create_registry("apartb")
    assert ls_a != ls_b
    sp = dataplane.directory.add_principal("apart", "secret-a")
    dataplane.directory.grant(sp, rec_a.id, ACR_PUSH, ACR_IMAGE_SIGNER)
    dataplane.directory.grant(sp, rec_b.id, ACR_PULL)
    in_a, in_b = dataplane.client(ls_a, sp.object_id), dataplane.client(ls_b, sp.object_id)

    push_test_image(in_a, "shared-name", "v1", "apart")
    assert in_b.manifest("shared-name", "v1") is None
    assert in_b.tags("shared-name") == []
    with pytest.raises(RegistryError, match="401"):
        push_test_image(in_b, "shared-name", "v1", "apart")  # pull-only there

    refresh = dataplane.track(
        AcrTokenSource(BearerCredential(f"entra-{sp.object_id}"), verify=str(dataplane.ca_cert))
    )
    token_a = refresh.for_registry(ls_a).refresh_token(
        realm=f"https://{ls_a}/oauth2/token", service=ls_a
    )
    at_b = requests.post(
        f"https://{ls_b}/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "service": ls_b,
            "refresh_token": token_a,
            "scope": "repository:shared-name:pull",
        },
        verify=str(dataplane.ca_cert),
        timeout=30,
    )
    assert at_b.status_code == 401  # a refresh token is good for its own registry only

    # registry A's GUN is not B's to serve: B's notary-server refuses foreign GUN prefixes
    creds = f"{sp.app_id}:secret-a"
    init_a = run_notary(ls_a, dataplane.ca_cert, tmp_path / "t", creds, "init", f"{ls_a}/x", "-p")
    assert init_a.returncode == 0, init_a.stdout + init_a.stderr
    via_b = run_notary(ls_b, dataplane.ca_cert, tmp_path / "u", creds, "list", f"{ls_a}/x")
    assert via_b.returncode != 0


def test_import_copies_images_and_manifest_lists_between_registries(
    dataplane: DataPlaneHarness,
) -> None:
    src_rec, src_ls = dataplane.create_registry("importsrc")
    dst_rec, dst_ls = dataplane.create_registry("importdst")
    sp = dataplane.directory.add_principal("importer", "secret-i")
    dataplane.directory.grant(sp, src_rec.id, ACR_PUSH)
    dataplane.directory.grant(sp, dst_rec.id, ACR_PULL)
    src, dst = dataplane.client(src_ls, sp.object_id), dataplane.client(dst_ls, sp.object_id)
    amd = push_test_image(src, "library/hello-world", "amd64", "amd")
    arm = push_test_image(src, "library/hello-world", "arm64", "arm")
    manifests = [
        {
            "mediaType": MANIFEST_MEDIA_TYPES[0],
            "digest": digest,
            "size": ref.size,
            "platform": {"architecture": arch, "os": "linux"},
        }
        for digest, arch in ((amd, "amd64"), (arm, "arm64"))
        for ref in [src.manifest("library/hello-world", digest)]
        if ref is not None
    ]
    body = json.dumps({"schemaVersion": 2, "mediaType": LIST_TYPE, "manifests": manifests})
    index = src.push_manifest("library/hello-world", "latest", body.encode(), LIST_TYPE)

    dataplane.run(
        dataplane.plane.import_image(
            dst_rec,
            source_login_server=src_ls,
            source_image="library/hello-world:latest",
            target_tags=["hello-world:imported"],
            force=False,
        )
    )

    imported = dst.manifest("hello-world", "imported")
    assert imported is not None and imported.digest == index and imported.media_type == LIST_TYPE
    for digest in (amd, arm):
        child = dst.manifest("hello-world", digest)
        assert child is not None and child.digest == digest
        config = json.loads(dst.manifest_body("hello-world", digest)[0])["config"]["digest"]
        assert dst.blob("hello-world", config)

    with pytest.raises(ImportFailed) as exists:
        dataplane.run(
            dataplane.plane.import_image(
                dst_rec,
                source_login_server=src_ls,
                source_image="library/hello-world:amd64",
                target_tags=["hello-world:imported"],
                force=False,
            )
        )
    assert exists.value.code == "TagAlreadyExists"
    dataplane.run(
        dataplane.plane.import_image(
            dst_rec,
            source_login_server=src_ls,
            source_image="library/hello-world:amd64",
            target_tags=["hello-world:imported"],
            force=True,
        )
    )
    forced = dst.manifest("hello-world", "imported")
    assert forced is not None and forced.digest == amd

    with pytest.raises(ImportFailed) as missing:
        dataplane.run(
            dataplane.plane.import_image(
                dst_rec,
                source_login_server=src_ls,
                source_image="library/hello-world:nope",
                target_tags=[],
                force=False,
            )
        )
    assert missing.value.code == "NotFound"
    with pytest.raises(ImportFailed) as offline:
        dataplane.run(
            dataplane.plane.import_image(
                dst_rec,
                source_login_server="mcr.microsoft.com",
                source_image="hello-world:latest",
                target_tags=[],
                force=False,
            )
        )
    # docker.io has an offline stand-in (tests/e2e/dataplane/test_public_source.py);
    # any other public registry is out of reach.
    assert offline.value.code == "InvalidParameter"
    assert "mcr.microsoft.com" in offline.value.message


def _wait_gone(pid: int) -> None:
    """Gone, or a zombie (exited; its parent just has not collected it yet)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return
        if state == "Z":
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} is still running")


def test_login_server_and_content_survive_a_restart_and_go_with_deletion(
    tmp_path: Path,
) -> None:
    ca_cert, ca_key = create_ca(tmp_path)
    first = DataPlaneHarness(tmp_path / "state", ca_cert, ca_key)
    try:
        record, login_server = first.create_registry("restartreg")
        sp = first.directory.add_principal("sp", "s")
        first.directory.grant(sp, record.id, ACR_PUSH)
        assert {p.detail for p in first.plane.status() if "restartreg (" in p.name} >= {"on demand"}
        digest = push_test_image(first.client(login_server, sp.object_id), "app", "v1", "r")
        running = [
            p for p in first.plane.status() if "restartreg (" in p.name and "pid" in p.detail
        ]
        assert len(running) == 2 and all(p.healthy for p in running)
        pids = [int(p.detail.split()[1].rstrip(",")) for p in running]

        os.kill(pids[0], signal.SIGKILL)  # a crashed backend is restarted by the next request
        _wait_gone(pids[0])
        deadline = time.monotonic() + 10
        while all(p.healthy for p in first.plane.status() if "restartreg (" in p.name):
            assert time.monotonic() < deadline, "status never noticed the crashed backend"
            time.sleep(0.05)
        ref = first.client(login_server, sp.object_id).manifest("app", "v1")
        assert ref is not None and ref.digest == digest
    finally:
        first.close()
    for pid in pids[1:]:
        _wait_gone(pid)  # stopping the data plane leaves no server behind

    second = DataPlaneHarness(tmp_path / "state", ca_cert, ca_key)
    try:
        again = second.create_registry("restartreg")
        assert again[1] == login_server
        sp2 = second.directory.add_principal("sp", "s")
        second.directory.grant(sp2, record.id, ACR_PUSH)
        ref = second.client(login_server, sp2.object_id).manifest("app", "v1")
        assert ref is not None and ref.digest == digest

        second.run(second.plane.registry_deleted(record))
        assert not (tmp_path / "state" / "dataplane" / "restartreg").exists()
        with pytest.raises(requests.ConnectionError):
            requests.get(f"https://{login_server}/v2/", verify=str(ca_cert), timeout=5)
        assert not [p for p in second.plane.status() if "restartreg" in p.name]
    finally:
        second.close()


@pytest.fixture
def plain_registry(dataplane: DataPlaneHarness, tmp_path: Path) -> Iterator[str]:
    """A docker-registry on loopback with no auth, like a local mirror a user imports from."""
    pair = issue(
        tmp_path,
        "tls",
        ca_cert=str(dataplane.ca_cert),
        ca_key_path=str(dataplane.ca_key),
        common_name="plain",
        server=True,
    )
    port = free_port("127.0.0.1")
    config = {
        "version": "0.1",
        "storage": {"filesystem": {"rootdirectory": str(tmp_path / "data")}},
        "http": {
            "addr": f"127.0.0.1:{port}",
            "tls": {"certificate": str(pair.cert_path), "key": str(pair.key_path)},
        },
    }
    (tmp_path / "config.yml").write_text(json.dumps(config))
    with (tmp_path / "log").open("wb") as log:
        proc = subprocess.Popen(
            ["docker-registry", "serve", str(tmp_path / "config.yml")],
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(
                    f"https://127.0.0.1:{port}/v2/", verify=str(dataplane.ca_cert), timeout=2
                )
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


class _Anonymous:
    def access_token(self, *, realm: str, service: str, scopes: Sequence[str]) -> str:
        raise AssertionError("a registry without auth never challenges")


def test_import_from_a_registry_url_on_loopback(
    dataplane: DataPlaneHarness, plain_registry: str
) -> None:
    dst_rec, dst_ls = dataplane.create_registry("importurl")
    mirror = dataplane.track(
        RegistryClient(plain_registry, _Anonymous(), verify=str(dataplane.ca_cert))
    )
    digest = push_test_image(mirror, "library/busybox", "1.36", "mirror")

    dataplane.run(
        dataplane.plane.import_image(
            dst_rec,
            source_login_server=f"https://{plain_registry}",
            source_image="library/busybox:1.36",
            target_tags=["busybox:1.36"],
            force=False,
        )
    )

    sp = dataplane.directory.add_principal("url-reader", "secret-u")
    dataplane.directory.grant(sp, dst_rec.id, ACR_PULL)
    ref = dataplane.client(dst_ls, sp.object_id).manifest("busybox", "1.36")
    assert ref is not None and ref.digest == digest


def test_chunked_uploads_stream_through_the_login_server(dataplane: DataPlaneHarness) -> None:
    record, login_server = dataplane.create_registry("chunkreg")
    sp = dataplane.directory.add_principal("chunky", "secret-k")
    dataplane.directory.grant(sp, record.id, ACR_PUSH)
    blob = os.urandom(3 * 1024 * 1024 + 17)
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    with dataplane.client(login_server, sp.object_id) as client:
        start = client.request("POST", "/v2/big/blobs/uploads/", repository="big", write=True)
        assert start.status_code == 202

        def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked, as docker does
            for offset in range(0, len(blob), 256 * 1024):
                yield blob[offset : offset + 256 * 1024]

        patch = client.request(
            "PATCH", start.headers["Location"], repository="big", write=True, data=chunks()
        )
        assert patch.status_code == 202, patch.text
        location = patch.headers["Location"]
        sep = "&" if "?" in location else "?"
        put = client.request("PUT", f"{location}{sep}digest={digest}", repository="big", write=True)
        assert put.status_code == 201, put.text
        assert client.blob("big", digest) == blob
