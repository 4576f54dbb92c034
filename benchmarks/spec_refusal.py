"""How fast the loader refuses hostile specs, against validating the walkthrough spec.

Targets (2-core reference machine): an alias bomb refused in under 0.1 s, a 1.2 MB file
refused before parsing in under 0.5 s of CLI time, the whole bad-input corpus validated
in one run in under 1 s. Each row runs in the same loop as the baseline (the walkthrough
spec, which parses and validates fully), so a loaded machine moves every row together.
These used to be timed assertions in the tests, where a busy machine made them flaky;
the tests keep the behaviour (what is refused, where, and why).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from acr_reconcile.errors import SpecError
from acr_reconcile.spec.loader import load_paths

ROOT = Path(__file__).resolve().parent.parent
BAD = ROOT / "tests" / "unit" / "spec" / "bad"
WALKTHROUGH = ROOT / "examples" / "hello-world.yaml"
RUNS = 7


def _median(work: Callable[[], object]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _refused(path: Path) -> None:
    try:
        load_paths([path])
    except SpecError:
        return
    raise AssertionError(f"{path} was not refused")


def _cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "acr_reconcile", *args], capture_output=True)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        huge = Path(tmp) / "huge.yaml"
        huge.write_text("# padding\n" * 120_000)
        rows = [
            ("load examples/hello-world.yaml (baseline)", lambda: load_paths([WALKTHROUGH])),
            ("refuse the alias bomb (target < 0.1 s)", lambda: _refused(BAD / "alias-bomb.yaml")),
            (
                "CLI: validate examples/hello-world.yaml (baseline)",
                lambda: _cli("validate", str(WALKTHROUGH)),
            ),
            ("CLI: refuse a 1.2 MB file (target < 0.5 s)", lambda: _cli("validate", str(huge))),
            (
                "CLI: validate the bad corpus at once (target < 1 s)",
                lambda: _cli("validate", str(BAD)),
            ),
        ]
        print(f"| what | median of {RUNS} |")
        print("| --- | --- |")
        for label, work in rows:
            print(f"| {label} | {_median(work):.3f} s |")


if __name__ == "__main__":
    main()
