# ruff: noqa: E501  (the case table reads best one case per line)
"""`make interop-notation`: our verifier against signatures notation itself made.

The vectors are notation-go's test data (a checkout of github.com/notaryproject/notation-go);
they are not part of this repository. Point ACR_RECONCILE_NOTATION_VECTORS at the
checkout's root; without it, or with files missing, this fails. Each case names the
envelope, the manifest it must be about, the trust store, our expected verdict and what
notation does with it; the run prints one line per case and exits 1 when a verdict is not
the expected one. Where we differ from notation on purpose (timestamps) the case says so.
"""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from acr_reconcile.notation.envelope import MEDIA_TYPE_COSE, MEDIA_TYPE_JWS
from acr_reconcile.notation.envelopes import parse_envelope
from acr_reconcile.notation.payload import Descriptor
from acr_reconcile.notation.verify import (
    NamedStore,
    StoreType,
    Verdict,
    VerificationPolicy,
    verify_envelope,
)

ENV = "ACR_RECONCILE_NOTATION_VECTORS"
DOCKER_V2 = "application/vnd.docker.distribution.manifest.v2+json"
MOCK = Descriptor(
    DOCKER_V2, "sha256:60043cf45eaebc4c0867fea485a039b598f52fd09fd5b07b0b2d2f88fad9d74e", 528
)
METADATA = Descriptor(
    DOCKER_V2, "sha256:5a07385af4e6b6af81b0ebfd435aedccdfa3507f0609c658209e1aba57159b2b", 942
)
TIMESTAMPED = "sha256:c0669ef34cdc14332c0f1ab0c2c01acb91d96014b172f1a76f3a39e63d1f0bda"
ALPINE = "internal/testdata/oci-layout/blobs/sha256/"
ALPINE += "19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0"
STORE = "verifier/testdata/truststore/x509/ca/valid-trust-store/"
MOCKS = "internal/mock/testdata/"
STAMPS = "verifier/testdata/timestamp/sigEnv/"


@dataclass(frozen=True)
class Case:
    path: str
    media_type: str
    target: Descriptor | str  # a descriptor, or the path of the manifest bytes
    anchors: tuple[str, ...]  # store files; () = the envelope's own root (self-trust)
    expected: Verdict
    notation: str  # what notation does with it
    store_type: StoreType = StoreType.CA
    by_design: bool = False  # our verdict differs from notation's on purpose (documented)


CASES = [
    Case("internal/testdata/jws_signature.sig", MEDIA_TYPE_JWS, ALPINE, (), Verdict.SIGNED, "verifies"),
    Case("internal/testdata/cose_signature.sig", MEDIA_TYPE_COSE, ALPINE, (), Verdict.SIGNED, "verifies"),
    Case(MOCKS + "ca_valid_sig_env.json", MEDIA_TYPE_JWS, MOCK, (STORE + "NotationTestRoot.pem",), Verdict.SIGNED, "verifies"),
    Case(MOCKS + "ca_invalid_sig_env.json", MEDIA_TYPE_JWS, MOCK, (STORE + "NotationTestRoot.pem",), Verdict.INVALID, "integrity failure"),
    Case(MOCKS + "ca_expired_sig_env.json", MEDIA_TYPE_JWS, MOCK, (STORE + "NotationTestRoot.pem",), Verdict.UNTRUSTED, "expiry failure"),
    Case(MOCKS + "ca_plugin_sig_env.json", MEDIA_TYPE_JWS, MOCK, (STORE + "NotationTestRoot.pem",), Verdict.UNTRUSTED, "fails without the plugin"),
    Case(MOCKS + "sa_valid_sig_env.json", MEDIA_TYPE_JWS, MOCK, (STORE + "NotationTestRoot.pem",), Verdict.SIGNED, "verifies", StoreType.SIGNING_AUTHORITY),
    Case(MOCKS + "sa_valid_sig_env.json", MEDIA_TYPE_JWS, MOCK, (STORE + "NotationTestRoot.pem",), Verdict.UNTRUSTED, "no signingAuthority store: fails"),
    Case(MOCKS + "sa_invalid_sig_env.json", MEDIA_TYPE_JWS, MOCK, (STORE + "NotationTestRoot.pem",), Verdict.INVALID, "integrity failure", StoreType.SIGNING_AUTHORITY),
    Case(MOCKS + "sa_expired_sig_env.json", MEDIA_TYPE_JWS, MOCK, (STORE + "NotationTestRoot.pem",), Verdict.UNTRUSTED, "expiry failure", StoreType.SIGNING_AUTHORITY),
    Case(MOCKS + "sa_plugin_sig_env.json", MEDIA_TYPE_JWS, MOCK, (STORE + "NotationTestRoot.pem",), Verdict.UNTRUSTED, "fails without the plugin", StoreType.SIGNING_AUTHORITY),
    Case(MOCKS + "ca_compatible_pluginver_sig_env_1.0.0.json", MEDIA_TYPE_JWS, MOCK, (STORE + "wabbit-networks.io.crt",), Verdict.UNTRUSTED, "fails without the plugin"),
    Case(MOCKS + "sig_env_with_metadata.json", MEDIA_TYPE_JWS, METADATA, (), Verdict.UNTRUSTED, "certificate expired (2023-01-12)"),
    Case(MOCKS + "ca_valid_sig_env.json", MEDIA_TYPE_JWS, METADATA, (STORE + "NotationTestRoot.pem",), Verdict.INVALID, "artifact digest mismatch"),
    Case(STAMPS + "withoutTimestamp.sig", MEDIA_TYPE_JWS, Descriptor(DOCKER_V2, TIMESTAMPED, 528), (STORE + "TestTimestamp.crt",), Verdict.SIGNED, "verifies while the leaf is valid"),
    Case(STAMPS + "jwsWithTimestamp.sig", MEDIA_TYPE_JWS, Descriptor(DOCKER_V2, TIMESTAMPED, 528), (STORE + "TestTimestamp.crt",), Verdict.SIGNED, "verifies (timestamp checked)"),
    Case(STAMPS + "coseWithTimestamp.sig", MEDIA_TYPE_COSE, Descriptor(DOCKER_V2, TIMESTAMPED, 528), (STORE + "TestTimestamp.crt",), Verdict.SIGNED, "verifies (timestamp checked)"),
    Case(STAMPS + "jwsExpiredWithTimestamp.sig", MEDIA_TYPE_JWS, Descriptor(DOCKER_V2, TIMESTAMPED, 528), (), Verdict.UNTRUSTED, "verifies through its timestamp", by_design=True),
]  # fmt: skip


def _anchors(root: Path, case: Case, data: bytes) -> tuple[bytes, ...]:
    if not case.anchors:
        envelope = parse_envelope(case.media_type, data)
        return (envelope.certificates[-1],)
    ders: list[bytes] = []
    for name in case.anchors:
        raw = (root / name).read_bytes()
        certs = x509.load_pem_x509_certificates(raw) if b"-----BEGIN" in raw else [
            x509.load_der_x509_certificate(raw)
        ]  # fmt: skip
        ders += [c.public_bytes(Encoding.DER) for c in certs]
    return tuple(ders)


def _target(root: Path, case: Case) -> Descriptor:
    if isinstance(case.target, Descriptor):
        return case.target
    manifest = (root / case.target).read_bytes()
    digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
    return Descriptor("application/vnd.oci.image.manifest.v1+json", digest, len(manifest))


def main() -> int:
    given = os.environ.get(ENV)
    root = Path(given) if given else None
    if root is None or not root.is_dir():
        print(f"{ENV} must name a checkout of notaryproject/notation-go (got {given!r})")
        return 1
    now = datetime.now(UTC)
    disagreements = 0
    for case in CASES:
        path = root / case.path
        if not path.is_file():
            print(f"MISSING  {case.path}")
            disagreements += 1
            continue
        data = path.read_bytes()
        store = NamedStore(case.store_type, "vectors", _anchors(root, case, data))
        policy = VerificationPolicy("vectors", (store,), (None,))
        result = verify_envelope(case.media_type, data, _target(root, case), policy, now)
        agrees = result.verdict is case.expected
        disagreements += not agrees
        mark = "DIFFERS " if not agrees else "by-design " if case.by_design else "ok      "
        print(f"{mark}{case.path} [{case.store_type.value}]: {result.verdict.value} "
              f"(notation: {case.notation}) - {result.reason}")  # fmt: skip
    known = sum(case.by_design for case in CASES)
    print(
        f"{len(CASES) - disagreements}/{len(CASES)} cases as expected "
        f"({known} differ from notation by design: RFC 3161 timestamps are not verified)"
    )
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
