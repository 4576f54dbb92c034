"""Signing many digests in one ``apply`` with a Key Vault key under the emulator's Key
Vault throttling, against the throttle floor; and no duplicate signature from any retry.

A private sandbox gets a Premium registry under today's rules with ``SIGNATURES``
distinct images in one repository and Key Vault throttling on (setting
``keyVaultThrottle``) at ``LIMIT`` transactions per 10-second window per vault: by
default 1,000 at 80, so that the limit, not the machine, bounds the run; the full run
(``NOTATION_THROTTLED_FULL=1``) is the issue's 10,000 at Azure's own 4,000 (the apply
signs and pushes about a dozen signatures a second on the 2-core VM, far below Azure's
400/s, so at Azure's limit the figure measures the machine). One apply of the
document with every tag ``sign: true`` makes the vault, the certificate and the roles,
then signs each digest through Key Vault; every 429 (``Retry-After``: the seconds to the
window's end) is waited out by the product's retry policy.

The floor is what the limit allows at best: signatures ÷ the per-10-s limit × 10 s. The
figure set against it is the signing span, from the first Key Vault sign request to the
last signature manifest pushed (the sandbox's request log); the apply's wall time, which
adds reading the 10,000 tags and creating the vault and certificate, is shown beside it.
Afterwards the signature manifests of every digest are counted: exactly one each, or the
run fails. Target: the span within 1.2 × the floor. Run:
``python -m benchmarks notation_sign_throttled``: by default 1,000 signatures at 80
transactions per 10 s (throttle-bound, a few minutes); ``NOTATION_THROTTLED_FULL=1`` for
10,000 at Azure's 4,000; ``NOTATION_THROTTLED_SIGNATURES`` and ``NOTATION_THROTTLED_LIMIT``
override the count and the limit.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks import _notation
from benchmarks._sandbox import run_on_private_sandbox

# By default 1,000 signatures at 80 transactions per 10 s: throttle-bound (the machine
# signs far faster than 8/s) and done in a few minutes. NOTATION_THROTTLED_FULL=1 runs the
# issue's 10,000 at Azure's 4,000 per 10 s, which on a 2-core VM measures the machine
# (about 40 minutes); the two variables below still override either.
FULL = os.environ.get("NOTATION_THROTTLED_FULL", "") not in ("", "0")
SIGNATURES = int(os.environ.get("NOTATION_THROTTLED_SIGNATURES", "10000" if FULL else "1000"))
LIMIT = int(os.environ.get("NOTATION_THROTTLED_LIMIT", "4000" if FULL else "80"))
WINDOW_SECONDS = 10
TARGET_RATIO = 1.2
REGISTRY = "benchthrottled"
VAULT = "kv-bench-throttled"


def _log_since(state_dir: Path, since: float) -> list[dict[str, Any]]:
    """The request log's entries from ``since`` on, from ``requests.jsonl`` (the
    in-memory log keeps only the newest 50,000; this run makes more)."""
    time.sleep(1.0)  # the log is flushed every 0.5 s
    entries = []
    with (state_dir / "requests.jsonl").open() as log:
        for line in log:
            entry = json.loads(line)
            if entry["time"] >= since:
                entries.append(entry)
    return entries


def _span(entries: list[dict[str, Any]]) -> tuple[float, Counter[str]]:
    """Seconds from the first Key Vault sign request to the last signature manifest
    push, and the counts of what was sent."""
    signs = [e for e in entries if e.get("vault") and str(e["path"]).endswith("/sign")]
    pushes = [
        e
        for e in entries
        if e.get("loginServer") and e["method"] == "PUT" and "/manifests/sha256:" in e["path"]
    ]
    if not signs or not pushes:
        raise RuntimeError("the apply sent no Key Vault sign or no signature manifest")
    first = min(e["time"] - e["durationMs"] / 1000 for e in signs)
    counts = Counter(
        {
            "Key Vault sign requests": len(signs),
            "answered 429": sum(1 for e in signs if e["status"] == 429),
            "signature manifests pushed": sum(1 for e in pushes if e["status"] == 201),
        }
    )
    return max(e["time"] for e in pushes) - first, counts


def _run(handle: Any, work: Path) -> None:
    os.environ.update(handle.env() | {"DOCKER_CONFIG": str(work / "docker")})
    handle.settings(
        keyvault_rbac_delay=0.0,
        keyvault_throttle={"enabled": True, "windowSeconds": WINDOW_SECONDS, "transactions": LIMIT},
    )
    login_server = _notation.today_registry(handle, REGISTRY)
    started = time.perf_counter()
    images = _notation.push_images(handle, login_server, SIGNATURES)
    print(f"set-up: {SIGNATURES:,} images pushed in {time.perf_counter() - started:.1f} s")
    spec = work / "spec.yaml"
    tags = [image.tag for image in images]
    spec.write_text(
        _notation.spec_yaml(handle, REGISTRY, tags, _notation.key_vault_block(VAULT), sign=True)
    )
    since, started = time.time(), time.perf_counter()
    _notation.must(_notation.cli("apply", str(spec), "--auto-approve"), "the throttled apply")
    wall = time.perf_counter() - started
    span, counts = _span(_log_since(handle.state_dir, since))
    checked = _notation.no_duplicates(
        _notation.signature_counts(handle, login_server, images), images
    )
    floor = SIGNATURES / LIMIT * WINDOW_SECONDS
    ratio = span / floor
    verdict = "meets" if ratio <= TARGET_RATIO else "BELOW"
    sent = ", ".join(f"{n:,} {kind}" for kind, n in counts.items())
    print(
        f"signing {SIGNATURES:,} digests under Key Vault throttling ({LIMIT:,} transactions "
        f"per {WINDOW_SECONDS} s): signing span {span:.1f} s for a floor of {floor:.1f} s, "
        f"{ratio:.2f} x the floor; {verdict} the {TARGET_RATIO} x target; {sent}"
    )
    print(
        f"the whole apply (reading {SIGNATURES:,} tags, creating the vault and certificate, "
        f"signing): {wall:.1f} s; afterwards {checked} (no duplicate from any retry)"
    )


def main() -> None:
    run_on_private_sandbox("bench-notation-throttled", _run)


if __name__ == "__main__":
    main()
