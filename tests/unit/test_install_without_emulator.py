"""A plain ``pip install .`` of the tool needs neither the emulator nor its web stack.

The dependency list must not name them, and every module of the tool must import and
the commands must run in an interpreter that refuses to import them (a ``sys.meta_path``
finder raises ``ModuleNotFoundError`` as a missing package would). ``sandbox`` is the one
command that needs the emulator: without it, it says in one line how to get it, exit 1.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EMULATOR_ONLY = ("acr_sandbox", "aiohttp")

_REFUSE = """
import importlib.abc, sys
BLOCKED = set(sys.argv[1].split(","))
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Refuse())
"""

_IMPORT_ALL_AND_VALIDATE = (
    _REFUSE
    + """
import importlib, pkgutil
import acr_reconcile
names = [m.name for m in pkgutil.walk_packages(acr_reconcile.__path__, "acr_reconcile.")]
for name in names:
    if name != "acr_reconcile.__main__":
        importlib.import_module(name)
print(len(names), "modules")
from acr_reconcile.cli import main
sys.exit(main(["validate", "examples/hello-world.yaml"]))
"""
)

_SANDBOX_UP = (
    _REFUSE
    + """
from acr_reconcile.cli import main
sys.exit(main(["sandbox", "up"]))
"""
)


def _run(
    script: str, blocked: tuple[str, ...], state_dir: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if state_dir is not None:  # should the refusal ever fail, no sandbox of the checkout starts
        env["ACR_RECONCILE_SANDBOX_DIR"] = str(state_dir)
    return subprocess.run(
        [sys.executable, "-c", script, ",".join(blocked)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _requirement_name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[(]", requirement.strip(), maxsplit=1)[0].lower()


def test_the_tools_dependencies_name_no_emulator_package() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {_requirement_name(r) for r in project["dependencies"]}
    assert "pydantic" in names  # the list is the one the tool installs
    assert names.isdisjoint({"aiohttp", "acr-reconcile-sandbox", "acr_sandbox"})


def test_every_module_imports_and_validate_runs_without_the_emulator() -> None:
    done = _run(_IMPORT_ALL_AND_VALIDATE, EMULATOR_ONLY)
    assert done.returncode == 0, done.stderr
    count = int(done.stdout.split(" modules")[0].strip().splitlines()[-1])
    assert count > 50  # the walk found the tool's modules, commands included
    assert "1 document(s) in 1 file(s) valid" in done.stdout
    loaded = _run(_REFUSE + "\nimport acr_sandbox\n", EMULATOR_ONLY)
    assert loaded.returncode == 1 and "No module named 'acr_sandbox'" in loaded.stderr


def test_sandbox_without_the_emulator_says_how_to_install_it(tmp_path: Path) -> None:
    done = _run(_SANDBOX_UP, EMULATOR_ONLY, tmp_path / "state")
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert "pip install ./sandbox" in lines[0] and "Traceback" not in done.stderr
    assert not (tmp_path / "state").exists()
