"""`make bench`: run every benchmark module's ``main()`` in turn, or the ones named.

Usage: ``python -m benchmarks [NAME ...]`` where NAME is a module of this package
(``arm_throughput``, ``plan_fleet``, ``trust_sign`` ...). Figures go to stdout; the README
quotes them with the machine and the date.
"""

from __future__ import annotations

import importlib
import pkgutil
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path


def _modules() -> list[str]:
    here = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))


def main(argv: list[str]) -> int:
    names = argv or _modules()
    unknown = sorted(set(names) - set(_modules()))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(_modules())}")
        return 1
    cpu = platform.processor() or platform.machine()
    print(
        f"# benchmarks on {platform.node()} ({cpu}, {_cores()} cores), {datetime.now(UTC):%Y-%m-%d}"
    )
    for name in names:
        print(f"\n## {name}")
        started = time.perf_counter()
        importlib.import_module(f"benchmarks.{name}").main()
        print(f"({name} took {time.perf_counter() - started:.1f} s)")
    return 0


def _cores() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
