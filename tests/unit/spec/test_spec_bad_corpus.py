"""Every malformed spec in bad/ is refused with the exact place, field and rule.

bad_expectations.yaml holds, per file, the ``LINE:COL``, the dotted field path (empty for
problems of the file itself) and a fragment of the message of the issue it must produce.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from spec_helpers import Cli

from acr_reconcile.errors import SpecError
from acr_reconcile.spec.loader import load_paths

HERE = Path(__file__).parent
BAD = HERE / "bad"
EXPECTED: dict[str, dict[str, str]] = yaml.safe_load(
    (HERE / "bad_expectations.yaml").read_text(encoding="utf-8")
)
FILES = sorted(p.name for p in BAD.glob("*.yaml"))
# Not acr-reconcile documents at all: skipped when found in a directory.
FOREIGN = {"kubernetes-manifest.yaml", "scalar-document.yaml"}
# A handful run as real processes: the ones most likely to crash an interpreter.
AS_SUBPROCESS = [
    "alias-bomb.yaml",
    "python-object-tag.yaml",
    "binary-nul.yaml",
    "not-utf8.yaml",
    "deep-nesting.yaml",
    "two-docs-same-registry.yaml",
]


def _expected_line(path: Path, name: str) -> tuple[str, str]:
    want = EXPECTED[name]
    field = f" {want['path']}:" if want["path"] else ""
    return f"{path}:{want['at']}:{field}", want["message"]


def _check_output(path: Path, name: str, code: int, err: str) -> None:
    assert code == 1
    assert "Traceback" not in err
    lines = err.splitlines()
    assert lines[0].startswith("error: ") and "problem(s)" in lines[0]
    assert lines[1:], "at least one issue"
    assert all(line.startswith(f"{path}:") for line in lines[1:]), "one issue per line"
    prefix, fragment = _expected_line(path, name)
    matching = [line for line in lines[1:] if line.startswith(prefix + " ")]
    assert matching, f"no issue starting with {prefix!r} in:\n{err}"
    assert any(fragment in line for line in matching), f"{fragment!r} not in {matching}"


def test_corpus_is_large_and_fully_described() -> None:
    assert len(FILES) >= 40
    assert set(FILES) == set(EXPECTED)


@pytest.mark.parametrize("name", FILES)
def test_bad_spec_is_refused_in_process(name: str, cli: Cli) -> None:
    path = BAD / name
    run = cli("validate", str(path))
    _check_output(path, name, run.code, run.err)
    assert run.out == ""


@pytest.mark.parametrize("name", AS_SUBPROCESS)
def test_bad_spec_is_refused_by_the_real_command(name: str) -> None:
    path = BAD / name
    done = subprocess.run(
        [sys.executable, "-m", "acr_reconcile", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"},
    )
    _check_output(path, name, done.returncode, done.stderr)


def test_alias_bomb_is_refused_before_it_expands() -> None:
    """How fast is measured by ``python -m benchmarks spec_refusal``; here, that the
    refusal is the alias bound's (counted while walking the composed nodes, before any
    value is built), not a later failure of an expanded document."""
    with pytest.raises(SpecError) as caught:
        load_paths([BAD / "alias-bomb.yaml"])
    assert "aliases expand to more than" in str(caught.value)


def test_python_tag_is_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    spec = tmp_path / "spec.yaml"
    tag = f'!!python/object/apply:os.system ["touch {marker}"]'
    spec.write_text(f"apiVersion: acr-reconcile/v1\nregistry: {tag}\n")
    with pytest.raises(SpecError) as caught:
        load_paths([spec])
    assert not marker.exists()
    assert "is not allowed in a spec" in str(caught.value)
    spec.write_text(f"registry: {tag}\n")  # not even ours: still never executed
    with pytest.raises(SpecError):
        load_paths([tmp_path])
    assert not marker.exists()


def test_huge_file_is_refused_before_parsing(tmp_path: Path, cli: Cli) -> None:
    spec = tmp_path / "huge.yaml"
    spec.write_text("# padding\n" * 120_000)  # 1.2 MB
    run = cli("validate", str(spec))
    assert run.code == 1
    assert f"{spec}:1:1: file is larger than 1048576 bytes" in run.err


def test_missing_file_and_empty_directory(tmp_path: Path, cli: Cli) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not a spec\n")
    missing = tmp_path / "missing.yaml"
    run = cli("validate", str(missing), str(empty))
    assert run.code == 1
    err = run.err
    assert f"{missing}:1:1: no such file or directory" in err
    assert f"{empty}:1:1: directory holds no *.yaml or *.yml file" in err
    assert "Traceback" not in err


def test_the_whole_corpus_at_once(cli: Cli) -> None:
    run = cli("validate", str(BAD))
    assert run.code == 1
    lines = run.err.splitlines()
    # files another tool could have written (no acr-reconcile apiVersion or kind) are
    # skipped in a directory, with one note; named on their own, they are errors
    note, issues = [line for line in lines if line.startswith("note: ")], lines[2:]
    assert len(note) == 1 and "skipped 2 YAML file(s)" in note[0], run.err
    reported = {line.split(":", 1)[0] for line in issues}
    assert reported == {str(BAD / name) for name in FILES if name not in FOREIGN}
