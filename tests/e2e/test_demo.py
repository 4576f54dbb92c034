"""`make demo` end to end, as a newcomer runs it from a directory of their own: it resets
and starts its own sandbox there, tells both stories of today (a Notation registry; a
legacy DCT registry migrated) and ends saying how to continue by hand. Checked: every
step's exit code (the demo checks them, so exit 0 means each was as expected), the lines
that tell the story, and that no secret it made up or was given is printed; the env file
that holds the passphrases is 0600."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def test_make_demo_tells_todays_story_and_how_to_continue(tmp_path: Path) -> None:
    state = tmp_path / ".sandbox"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "ARM_"))}
    env.pop("ACR_RECONCILE_SANDBOX_DIR", None)  # the default: ./.sandbox where it runs
    try:
        done = subprocess.run(
            [sys.executable, "-m", "acr_reconcile.demo"],
            cwd=tmp_path, env=env, capture_output=True, text=True,
            stdin=subprocess.DEVNULL, timeout=1500,
        )  # fmt: skip
    finally:
        subprocess.run(
            [sys.executable, "-m", "acr_reconcile", "sandbox", "down"],
            env=env | {"ACR_RECONCILE_SANDBOX_DIR": str(state)}, capture_output=True,
            check=False, timeout=120,
        )  # fmt: skip
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-6000:]
    assert "Traceback" not in out
    demo = state / "demo"
    # (a) today's rules: signed with Notation through Key Vault, verified, unsigned reported
    assert "ok   hello-world:signed" in out and "signed, verified (cose, " in out
    assert "--   busybox:unsigned" in out and "unsigned, as the document says" in out
    # (b) the legacy registry migrated: the inventory, the verification, trust disabled
    assert (
        f"wrote the DCT inventory of registrydavid to {demo}/dct-inventory-registrydavid.json"
        in out
    )
    assert "verified the Notation signatures of 1 digest(s) DCT signed" in out
    assert "carried over from Docker Content Trust" in out and "(tags signed): verified" in out
    assert out.count("content trust (DCT): disabled") == 2  # today's registry, the migrated one
    # how to continue, and the one file with the passphrases it made up
    env_file = demo / "demo.env"
    assert f"source {env_file}" in out
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    for line in env_file.read_text().splitlines():
        secret = line.split("=", 1)[1].strip("'")
        if "PASSPHRASE" in line:
            assert secret and secret not in out
    assert (demo / "today.yaml").exists() and (demo / "migrate.yaml").exists()
