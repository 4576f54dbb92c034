"""Shared set-up of the Notary Project benchmarks: a registry of today's rules on the
private sandbox, N distinct images in one repository, a development signing identity,
signatures pushed the way notation pushes them, and the counting of signature manifests
per digest afterwards.

The set-up goes through the product's own registry client (real token exchange, real
pushes), on a few threads so 1,000 images do not take longer than the thing measured.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

GROUP = "rg-bench-notation"
LOCATION = "westeurope"
REPOSITORY = "app"
PUSH_THREADS = 4
SUBJECT_CN = "bench-release"


@dataclass(frozen=True)
class Image:
    tag: str
    media_type: str
    digest: str
    size: int


def today_registry(handle: Any, name: str) -> str:
    """A Premium registry made under today's rules (no Docker Content Trust); its login
    server."""
    from azure.mgmt.containerregistry.models import Registry, Sku

    handle.settings(dct="current", replication_lag=0.0)
    clients = handle.clients()
    clients.resources.resource_groups.create_or_update(GROUP, {"location": LOCATION})
    created = clients.registries.registries.begin_create(
        GROUP, name, Registry(location=LOCATION, sku=Sku(name="Premium"))
    ).result()
    return str(created.login_server)


@contextmanager
def registry_client(handle: Any, login_server: str) -> Iterator[Any]:
    from acr_reconcile.registry.acr_auth import AcrTokenSource
    from acr_reconcile.registry.client import RegistryClient

    credential = handle.credential()
    tokens = AcrTokenSource(credential, verify=handle.ca_bundle)
    try:
        with RegistryClient(login_server, tokens, handle.ca_bundle) as client:
            yield client
    finally:
        tokens.close()
        credential.close()


def _threaded(
    handle: Any, login_server: str, items: Sequence[Any], work: Callable[..., Any]
) -> list[Any]:
    """``work(client, item)`` for every item, on PUSH_THREADS threads with a client each."""
    local = threading.local()
    opened: list[Any] = []
    lock = threading.Lock()

    def run(item: Any) -> Any:
        client = getattr(local, "client", None)
        if client is None:
            context = registry_client(handle, login_server)
            client = local.client = context.__enter__()
            with lock:
                opened.append(context)
        return work(client, item)

    try:
        with ThreadPoolExecutor(PUSH_THREADS, thread_name_prefix="bench-push") as pool:
            return list(pool.map(run, items))
    finally:
        for context in opened:
            context.__exit__(None, None, None)


def push_images(
    handle: Any, login_server: str, count: int, repository: str = REPOSITORY, prefix: str = "t"
) -> list[Image]:
    """``count`` distinct OCI images tagged ``<prefix>0000``…: one shared config, no
    layers, an annotation of their own (so one manifest PUT each)."""
    from acr_reconcile.notation.manifest import OCI_MANIFEST

    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}
    ).encode()
    with registry_client(handle, login_server) as client:
        config_digest = client.push_blob(repository, config)

    def push(client: Any, index: int) -> Image:
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": config_digest,
                    "size": len(config),
                },
                "layers": [],
                "annotations": {"org.example.bench.index": f"{prefix}{index}"},
            }
        ).encode()
        tag = f"{prefix}{index:04d}"
        digest = client.push_manifest(repository, tag, manifest, OCI_MANIFEST)
        return Image(tag, OCI_MANIFEST, digest, len(manifest))

    return _threaded(handle, login_server, range(count), push)


def dev_identity(directory: Path) -> tuple[Path, Path]:
    """An RSA-2048 signing key and its self-signed certificate as the Notary Project
    specification wants a leaf (critical keyUsage digitalSignature, EKU codeSigning, not a
    CA), valid from yesterday for a year; written as ``signing.key`` / ``signing.crt``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "WA"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Contoso"),
            x509.NameAttribute(NameOID.COMMON_NAME, SUBJECT_CN),
        ]
    )
    now = datetime.now(UTC)
    others = "content_commitment key_encipherment data_encipherment key_agreement"
    usage = dict.fromkeys(
        [*others.split(), "key_cert_sign", "crl_sign", "encipher_only", "decipher_only"], False
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
        .add_extension(x509.KeyUsage(digital_signature=True, **usage), True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), False)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = directory / "signing.key", directory / "signing.crt"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def push_signatures(
    handle: Any, login_server: str, images: Sequence[Image], key: Path, certificate: Path
) -> None:
    """One COSE signature per image, pushed as notation pushes it (empty config, envelope,
    signature manifest with the image as its subject; the referrers API lists it)."""
    from cryptography.hazmat.primitives.serialization import Encoding

    from acr_reconcile.notation.envelope import SignatureFormat, SignRequest
    from acr_reconcile.notation.envelopes import build_envelope
    from acr_reconcile.notation.manifest import OCI_MANIFEST, signature_artifact
    from acr_reconcile.notation.payload import Descriptor
    from acr_reconcile.notation.signer import FileSigner

    signer = FileSigner.from_files(key, certificate)
    chain = [c.public_bytes(Encoding.DER) for c in signer.certificate_chain()]

    def sign(client: Any, image: Image) -> None:
        subject = Descriptor(image.media_type, image.digest, image.size)
        now = datetime.now(UTC)
        envelope = build_envelope(SignatureFormat.COSE, SignRequest(subject, signer, now))
        artifact = signature_artifact(envelope, SignatureFormat.COSE, subject, chain, now)
        client.push_blob(REPOSITORY, artifact.config)
        client.push_blob(REPOSITORY, artifact.envelope)
        client.push_manifest(REPOSITORY, artifact.digest, artifact.manifest, OCI_MANIFEST)

    _threaded(handle, login_server, images, sign)


def signature_counts(
    handle: Any, login_server: str, images: Sequence[Image], repository: str = REPOSITORY
) -> Counter[str]:
    """How many Notary Project signature manifests the registry lists for each image's
    digest (referrers API, artifactType filter): a retry that pushed twice shows as 2."""
    from acr_reconcile.notation.manifest import SIGNATURE_ARTIFACT_TYPE
    from acr_reconcile.registry.referrers import referrers

    def count(client: Any, image: Image) -> tuple[str, int]:
        found = referrers(client, repository, image.digest, SIGNATURE_ARTIFACT_TYPE)
        return image.digest, len(found.referrers)

    return Counter(dict(_threaded(handle, login_server, images, count)))


def spec_yaml(
    handle: Any,
    registry: str,
    tags: Sequence[str],
    notation: str | None,
    *,
    sign: bool | None = None,
    repository: str = REPOSITORY,
) -> str:
    """One document: the registry, ``notation`` (a YAML block, or none) and every tag
    declared in one image entry, ``sign: true`` by default with a notation block and
    ``sign: false`` (present, not signed) without."""
    tag_list = ", ".join(tags)
    signed = "true" if (notation is not None if sign is None else sign) else "false"
    return (
        "apiVersion: acr-reconcile/v1\n"
        "kind: RegistryTrust\n"
        f"subscriptionId: {handle.subscription_id}\n"
        f"resourceGroup: {{name: {GROUP}, location: {LOCATION}}}\n"
        f"registry: {{name: {registry}, sku: Premium}}\n"
        + (notation or "")
        + f"images:\n  - {{repository: {repository}, tags: [{tag_list}], sign: {signed}}}\n"
    )


KEY_VAULT_SUBJECT = "CN=release, O=Contoso, L=Seattle, ST=WA, C=US"


def key_vault_block(vault: str) -> str:
    """A notation block signing with certificate ``release`` of ``vault`` (both made by
    apply with the policy of Microsoft's signing tutorial: RSA 2048, PS256)."""
    return (
        "notation:\n  signingKey:\n    keyVault: "
        f'{{name: {vault}, certificate: release, subject: "{KEY_VAULT_SUBJECT}"}}\n'
    )


FILE_KEY_BLOCK = """notation:
  signingKey:
    file: {key: dev/signing.key, certificate: dev/signing.crt}
"""


def cli(*args: str) -> tuple[int, str]:
    """The product's CLI in this process (its normal Azure code path, the environment
    pointing at the sandbox); exit code and everything it printed."""
    import contextlib
    import io

    from acr_reconcile.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(list(args))
    return code, out.getvalue()


def must(code_and_output: tuple[int, str], what: str, expected: int = 0) -> str:
    code, output = code_and_output
    if code != expected:
        raise RuntimeError(f"{what} exited {code}, expected {expected}:\n{output[-4000:]}")
    return output


def no_duplicates(counts: Counter[str], images: Sequence[Image]) -> str:
    """'1,000 digests, one signature each', or an error naming the digests that have
    none or more than one."""
    wrong = {image.tag: counts[image.digest] for image in images if counts[image.digest] != 1}
    if wrong:
        sample = ", ".join(f"{tag}: {n}" for tag, n in list(wrong.items())[:10])
        raise RuntimeError(f"{len(wrong)} digests do not have exactly one signature ({sample})")
    return f"{len(images):,} digests, exactly one signature manifest each"


def requests_of(handle: Any) -> Counter[str]:
    """What the measured apply sent, by kind (from the sandbox's request log)."""
    kinds: Counter[str] = Counter()
    for entry in handle.requests(data_plane=True):
        path, method, status = str(entry["path"]), entry["method"], entry["status"]
        if status == 429:
            kinds["429 answers"] += 1
        elif entry.get("vault") and path.endswith("/sign"):
            kinds["Key Vault signs"] += 1
        elif method == "PUT" and "/manifests/" in path:
            kinds["manifest pushes"] += 1
    return kinds
