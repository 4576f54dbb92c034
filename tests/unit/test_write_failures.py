"""A full disk or a file-size limit while writing the trust cache, a key or a plan ends in
one error naming the file, never a traceback, and leaves the previous file intact."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from acr_reconcile.errors import FileWriteError
from acr_reconcile.files import write_atomic, write_private_atomic
from acr_reconcile.trust.cache import TrustCache
from acr_reconcile.trust.crypto import SigningKey
from acr_reconcile.trust.keys import KeyStore, Passphrases
from tests.support.full_disk import full_tmpfs

OLD = b'{"signed": {"version": 1}, "signatures": []}'
NEW = b"x" * 64 * 1024


def _leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.rglob(".tmp-*")]


def test_a_full_disk_keeps_the_previous_file(tmp_path: Path) -> None:
    with full_tmpfs(tmp_path / "full", {"plan.json": OLD}) as full:
        with pytest.raises(
            FileWriteError, match=r"plan\.json: cannot write the plan file: No space"
        ):
            write_private_atomic(full / "plan.json", NEW, "the plan file")
        assert (full / "plan.json").read_bytes() == OLD
        assert _leftovers(full) == []


def test_an_exported_spec_on_a_full_disk_keeps_the_previous_one(tmp_path: Path) -> None:
    """``export --out`` writes through the same replacement, readable by others (a spec is
    meant to be committed), so a failed export never leaves half a spec behind."""
    with full_tmpfs(tmp_path / "full", {"spec.yaml": OLD}) as full:
        with pytest.raises(FileWriteError, match=r"spec\.yaml: cannot write the exported spec"):
            write_atomic(full / "spec.yaml", NEW, "the exported spec", mode=0o644)
        assert (full / "spec.yaml").read_bytes() == OLD
        assert _leftovers(full) == []
    written = tmp_path / "ok.yaml"
    write_atomic(written, b"apiVersion: acr-reconcile/v1\n", "the exported spec", mode=0o644)
    assert written.stat().st_mode & 0o777 == 0o644


def test_a_full_disk_under_the_trust_cache(tmp_path: Path) -> None:
    with full_tmpfs(tmp_path / "full") as full:
        cache = TrustCache(full / "trust", "registry.test/hello")
        with pytest.raises(FileWriteError, match="cannot write the trust cache"):
            cache.save("root", NEW)
        assert cache.load("root") is None
        assert _leftovers(full) == []


def test_a_full_disk_under_the_key_store(tmp_path: Path) -> None:
    with full_tmpfs(tmp_path / "full", {"trust": b""}) as full:
        (full / "trust").unlink()  # frees one block: the directories fit, the key does not
        store = KeyStore(full / "trust", Passphrases(root="a root passphrase"))
        with pytest.raises(FileWriteError, match=r"cannot write the (new root key|key dir)"):
            store.save(SigningKey.generate(), "root", None)
        assert list((full / "trust").rglob("*.key")) == []


SCRIPT = textwrap.dedent(
    """
    import resource, sys
    from pathlib import Path
    from acr_reconcile.errors import AcrReconcileError
    from acr_reconcile.trust.cache import TrustCache
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
    try:
        TrustCache(Path(sys.argv[1]), "registry.test/hello").save("root", b"x" * 65536)
    except AcrReconcileError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    """
)


def test_a_file_size_limit_is_one_line_and_keeps_the_previous_file(tmp_path: Path) -> None:
    """RLIMIT_FSIZE makes the write fail with EFBIG (CPython ignores SIGXFSZ)."""
    cache = TrustCache(tmp_path / "trust", "registry.test/hello")
    cache.save("root", OLD)
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "trust")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "root.json: cannot write the trust cache: File too large" in lines[0]
    assert cache.load("root") == OLD
    assert _leftovers(tmp_path) == []
