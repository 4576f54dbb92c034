import gzip
import hashlib
import io
import json
import tarfile

from acr_reconcile.registry.client import parse_challenge
from acr_sandbox.dataplane.importer import _children, _split_image
from acr_sandbox.dataplane.proxy import is_trust_path
from acr_sandbox.dataplane.testimage import build_test_image


def test_test_image_is_deterministic_and_self_consistent() -> None:
    image = build_test_image("seed-a")
    assert image == build_test_image("seed-a")
    assert image.layer != build_test_image("seed-b").layer
    tar = gzip.decompress(image.layer)
    config = json.loads(image.config)
    assert config["rootfs"]["diff_ids"] == ["sha256:" + hashlib.sha256(tar).hexdigest()]
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        assert archive.getnames() == ["hello.txt"]


def test_image_references() -> None:
    assert _split_image("library/hello-world:latest") == ("library/hello-world", "latest")
    assert _split_image("hello") == ("hello", "latest")
    assert _split_image("a/b@sha256:00") == ("a/b", "sha256:00")


def test_children_of_each_manifest_kind() -> None:
    index = {"manifests": [{"digest": "sha256:1"}, {"digest": "sha256:2"}]}
    assert _children(index, "application/vnd.oci.image.index.v1+json") == (
        ["sha256:1", "sha256:2"],
        [],
    )
    image = {"config": {"digest": "sha256:c"}, "layers": [{"digest": "sha256:l"}]}
    assert _children(image, "application/vnd.docker.distribution.manifest.v2+json") == (
        [],
        ["sha256:l", "sha256:c"],
    )
    schema1 = {"fsLayers": [{"blobSum": "sha256:x"}, {"blobSum": "sha256:x"}]}
    assert _children(schema1, "application/vnd.docker.distribution.manifest.v1+prettyjws") == (
        [],
        ["sha256:x"],
    )


def test_trust_paths_go_to_notary() -> None:
    assert is_trust_path("/v2/127.0.0.1:5000/hello/_trust/tuf/root.json")
    assert is_trust_path("/v2/_trust/changefeed")
    assert is_trust_path("/_notary_server/health")
    assert not is_trust_path("/v2/")
    assert not is_trust_path("/v2/hello/manifests/latest")
    assert not is_trust_path("/v2/my_trust/manifests/latest")


def test_bearer_challenge_parsing() -> None:
    header = 'Bearer realm="https://h:1/oauth2/token",service="h:1",scope="repository:a:pull,push"'
    assert parse_challenge(header) == {
        "realm": "https://h:1/oauth2/token",
        "service": "h:1",
        "scope": "repository:a:pull,push",
    }
    assert parse_challenge('Basic realm="x"') is None
