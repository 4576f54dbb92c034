"""Wall time of ``plan`` verifying 1,000 Notary Project signed digests.

A private sandbox gets a Premium registry under today's rules (no DCT) with 1,000
distinct images in one repository, each with one COSE signature (RSA-2048, a development
key and its self-signed code-signing certificate) pushed as notation pushes it. The run is
the real CLI (``plan DIR --detailed-exitcode``) of a document declaring the 1,000 tags
``sign: true`` with that key as its signing key: plan reads each tag's digest, lists its
signatures through the referrers API, reads the signature manifest and the envelope, and
verifies it under the document's trust policy; exit 0 (no change) means all 1,000 were
judged trusted. Baseline in the same run: the plan of the same document without the
notation block (the 1,000 tags ``sign: false``), which reads the same digests and no
signature — the difference is what verifying costs. Target: 1,000 verified in under 5 s.
Run: ``python -m benchmarks notation_verify`` (``NOTATION_BENCH_DIGESTS`` changes 1,000).
"""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks import _notation
from benchmarks._cpu import Split, cores, measured
from benchmarks._sandbox import run_on_private_sandbox

DIGESTS = int(os.environ.get("NOTATION_BENCH_DIGESTS", "1000"))
RUNS = int(os.environ.get("NOTATION_BENCH_RUNS", "3"))
TARGET_SECONDS = 5.0
REGISTRY = "benchverify"
NOTATION = """notation:
  signingKey:
    file: {key: dev/signing.key, certificate: dev/signing.crt}
"""


def _plan(handle: Any, spec: Path) -> tuple[Split, Counter[str]]:
    """(wall and CPU, data-plane requests by kind) of one plan, which must find nothing
    to change."""
    from acr_reconcile.cli import main as cli

    handle.clear_requests()
    out = io.StringIO()
    with (
        measured(handle) as split,
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(out),
    ):
        code = cli(["plan", str(spec), "--detailed-exitcode"])
    if code != 0:
        raise RuntimeError(f"plan of {spec} exited {code} (expected no changes):\n{out.getvalue()}")
    kinds: Counter[str] = Counter()
    for entry in handle.requests(data_plane=True):
        path = str(entry["path"])
        if "/referrers/" in path:
            kinds["referrers listings"] += 1
        elif "/manifests/" in path:
            kinds["manifest reads"] += 1
        elif "/blobs/" in path:
            kinds["blob reads"] += 1
    return split, kinds


def _run(handle: Any, work: Path) -> None:
    os.environ.update(handle.env() | {"DOCKER_CONFIG": str(work / "docker")})
    login_server = _notation.today_registry(handle, REGISTRY)
    started = time.perf_counter()
    images = _notation.push_images(handle, login_server, DIGESTS)
    signed, plain = work / "signed", work / "plain"
    key, certificate = _notation.dev_identity(signed / "dev")
    _notation.push_signatures(handle, login_server, images, key, certificate)
    print(
        f"set-up: {DIGESTS:,} images and {DIGESTS:,} COSE signatures pushed in "
        f"{time.perf_counter() - started:.1f} s"
    )
    tags = [image.tag for image in images]
    plain.mkdir()
    (signed / "spec.yaml").write_text(_notation.spec_yaml(handle, REGISTRY, tags, NOTATION))
    (plain / "spec.yaml").write_text(_notation.spec_yaml(handle, REGISTRY, tags, None))
    splits: list[Split] = []
    baseline: list[float] = []
    kinds: Counter[str] = Counter()
    for _ in range(RUNS):  # alternated, so a busy moment of the machine hits both alike
        split, kinds = _plan(handle, signed / "spec.yaml")
        splits.append(split)
        baseline.append(_plan(handle, plain / "spec.yaml")[0].wall)
    verified = [split.wall for split in splits]
    median, base = statistics.median(verified), statistics.median(baseline)
    typical = sorted(splits, key=lambda split: split.total)[len(splits) // 2]
    verdict = "meets" if median < TARGET_SECONDS else "BELOW"
    reads = ", ".join(f"{n:,} {kind}" for kind, n in sorted(kinds.items()))
    print(
        f"plan verifying {DIGESTS:,} signed digests (referrers API, COSE, RSA-2048): "
        f"{median:.2f} s median of {RUNS} ({', '.join(f'{w:.2f}' for w in verified)}); "
        f"{verdict} the < {TARGET_SECONDS:.0f} s target; data-plane requests: {reads}"
    )
    print(
        f"baseline in this run, the same plan without the notation block (digests only): "
        f"{base:.2f} s median ({', '.join(f'{w:.2f}' for w in baseline)}); "
        f"verification adds {median - base:.2f} s, {1000 * (median - base) / DIGESTS:.2f} ms "
        "per digest"
    )
    print(
        f"where the time goes (median run): {typical.describe(DIGESTS, 'digest')}; all "
        f"{cores()} cores busy with nothing else, the plan needs at least "
        f"{typical.floor():.1f} s"
    )


def main() -> None:
    run_on_private_sandbox("bench-notation-verify", _run)


if __name__ == "__main__":
    main()
