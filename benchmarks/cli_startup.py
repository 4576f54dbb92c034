"""Start-up cost of the CLI: ``acr-reconcile --help`` against a bare interpreter.

Target: ``--help`` under 0.2 s on the 2-core reference machine. The baseline (``python -c
pass``) runs in the same loop, so a noisy machine shows as both rows moving together.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

RUNS = 15


def _median_seconds(args: list[str]) -> tuple[float, float]:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times), max(times)


def main() -> None:
    rows = [
        ("python -c pass (baseline)", [sys.executable, "-c", "pass"]),
        ("acr-reconcile --help", [sys.executable, "-m", "acr_reconcile", "--help"]),
        ("acr-reconcile --version", [sys.executable, "-m", "acr_reconcile", "--version"]),
    ]
    print(f"| command | median of {RUNS} | max |")
    print("| --- | --- | --- |")
    for label, args in rows:
        median, worst = _median_seconds(args)
        print(f"| {label} | {median:.3f} s | {worst:.3f} s |")


if __name__ == "__main__":
    main()
