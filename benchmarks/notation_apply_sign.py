"""Wall time of one ``apply`` that signs and pushes 1,000 Notary Project signatures with a
Key Vault key.

A private sandbox gets a Premium registry under today's rules with 1,000 distinct images
in one repository. A first apply of the document with every tag ``sign: false`` makes the
signing vault and its certificate (RSA 2048, as Microsoft's signing tutorial) and the
roles; the measured apply is the same document with the tags ``sign: true``: for each
digest the product's normal path — the envelope (COSE) over the manifest's descriptor,
the digest signed by Key Vault (``keys/sign``, PS256) through azure-keyvault-keys, then
the envelope, the empty config and the signature manifest pushed — with Key Vault's
limits at Azure's values. Afterwards every digest must have exactly one signature
manifest and the plan must show no change. Baseline in the same run: the same apply on a
second registry signing with a local key file (no Key Vault round trip). CPU per
signature is read for the client and each sandbox process. Target: under 10 s.
Run: ``python -m benchmarks notation_apply_sign`` (``NOTATION_APPLY_DIGESTS`` changes
1,000).
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks import _notation
from benchmarks._cpu import Split, cores, measured
from benchmarks._sandbox import run_on_private_sandbox

DIGESTS = int(os.environ.get("NOTATION_APPLY_DIGESTS", "1000"))
TARGET_SECONDS = 10.0
VAULT = "kv-bench-sign"


def signed_apply(
    handle: Any, directory: Path, registry: str, notation: str
) -> tuple[Split, Counter[str], str]:
    """Make the registry's DIGESTS images, prepare (sign: false), then the measured apply
    (sign: true); checked: one signature per digest, then a plan with no change."""
    login_server = _notation.today_registry(handle, registry)
    images = _notation.push_images(handle, login_server, DIGESTS)
    tags = [image.tag for image in images]
    directory.mkdir(exist_ok=True)
    spec = directory / "spec.yaml"
    spec.write_text(_notation.spec_yaml(handle, registry, tags, notation, sign=False))
    _notation.must(_notation.cli("apply", str(spec), "--auto-approve"), f"preparing {registry}")
    spec.write_text(_notation.spec_yaml(handle, registry, tags, notation, sign=True))
    handle.clear_requests()
    with measured(handle) as split:
        _notation.must(_notation.cli("apply", str(spec), "--auto-approve"), f"signing {registry}")
    kinds = _notation.requests_of(handle)
    checked = _notation.no_duplicates(
        _notation.signature_counts(handle, login_server, images), images
    )
    _notation.must(_notation.cli("plan", str(spec), "--detailed-exitcode"), "the plan after")
    return split, kinds, checked


def _run(handle: Any, work: Path) -> None:
    os.environ.update(handle.env() | {"DOCKER_CONFIG": str(work / "docker")})
    handle.settings(keyvault_rbac_delay=0.0)
    kv, kinds, checked = signed_apply(
        handle, work / "kv", "benchsignkv", _notation.key_vault_block(VAULT)
    )
    _notation.dev_identity(work / "file" / "dev")
    local, _, _ = signed_apply(handle, work / "file", "benchsignfile", _notation.FILE_KEY_BLOCK)
    verdict = "meets" if kv.wall < TARGET_SECONDS else "BELOW"
    sent = ", ".join(f"{n:,} {kind}" for kind, n in sorted(kinds.items()))
    print(
        f"apply signing {DIGESTS:,} digests with Key Vault (PS256, COSE, referrers API): "
        f"{kv.wall:.2f} s, {DIGESTS / kv.wall:,.0f} signatures/s; {verdict} the "
        f"< {TARGET_SECONDS:.0f} s target; {sent}; afterwards {checked}, plan clean"
    )
    print(
        f"baseline in this run, the same apply signing with a local key file: "
        f"{local.wall:.2f} s ({DIGESTS / local.wall:,.0f} signatures/s); Key Vault adds "
        f"{1000 * (kv.wall - local.wall) / DIGESTS:.2f} ms per signature"
    )
    print(
        f"where the time goes (Key Vault apply): {kv.describe(DIGESTS, 'signature')}; all "
        f"{cores()} cores busy with nothing else, at least {kv.floor():.1f} s"
    )


def main() -> None:
    run_on_private_sandbox("bench-notation-apply", _run)


if __name__ == "__main__":
    main()
