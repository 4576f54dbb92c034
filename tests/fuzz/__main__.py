"""``python -m tests.fuzz [--seconds N] [--write-corpus] [spec|trust ...]`` (``make fuzz``).

Runs each atheris harness in its own process for a bounded time (``--seconds``, else
``$FUZZ_SECONDS``, else 60), growing a corpus and keeping crash inputs under ``.fuzz/``,
then prints executions per second and findings. Exit 1 when a harness found a crash or
atheris is missing. The parent imports nothing of the project: the child must import it
under atheris' instrumentation, or coverage feedback would be blind.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

TARGETS = ("spec", "trust")
REPO = Path(__file__).resolve().parent.parent.parent
CORPUS = Path(__file__).resolve().parent / "corpus"
MAX_LEN = {"spec": 8192, "trust": 16384}
INPUT_TIMEOUT = 20  # seconds; a slower input is a finding (a parser that can be stalled)
_STAT = re.compile(r"^stat::(\w+):\s*(\d+)", re.M)


@dataclass(frozen=True)
class Outcome:
    target: str
    returncode: int
    seconds: float
    stats: dict[str, int]
    log: Path

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["--run"]:
        return _child(argv[1], Path(argv[2]), argv[3:])
    args = _arguments(argv)
    if args.write_corpus:
        from tests.fuzz.corpus import write_corpus

        write_corpus()
        print(f"seed corpus written under {CORPUS}")
        return 0
    if importlib.util.find_spec("atheris") is None:
        print("atheris is not installed in this environment: run 'make fuzz' (it installs it)")
        return 1
    work = Path(args.work_dir).resolve()
    outcomes = [_fuzz(target, args.seconds, work) for target in args.targets or TARGETS]
    _report(outcomes)
    return 0 if all(o.ok for o in outcomes) else 1


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument("targets", nargs="*", metavar="TARGET", help="spec, trust (default: both)")
    parser.add_argument(
        "--seconds", type=int, default=int(os.environ.get("FUZZ_SECONDS", "60")), metavar="N"
    )
    parser.add_argument("--work-dir", default=str(REPO / ".fuzz"), help="corpus and crashes")
    parser.add_argument("--write-corpus", action="store_true", help="regenerate the seeds")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.targets) - set(TARGETS))
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)}; choose from {', '.join(TARGETS)}")
    return args


def _fuzz(target: str, seconds: int, work: Path) -> Outcome:
    corpus, crashes = work / target / "corpus", work / "crashes"
    corpus.mkdir(parents=True, exist_ok=True)
    crashes.mkdir(parents=True, exist_ok=True)
    log = work / f"{target}.log"
    flags = [
        f"-max_total_time={seconds}",
        f"-timeout={INPUT_TIMEOUT}",
        f"-max_len={MAX_LEN[target]}",
        f"-dict={CORPUS / f'{target}.dict'}",
        f"-artifact_prefix={crashes}/{target}-",
        "-print_final_stats=1",
        str(corpus),
        str(CORPUS / target),
    ]
    scratch = Path(tempfile.mkdtemp(prefix=f"fuzz-{target}-"))
    print(f"fuzzing {target} for {seconds} s (log: {log})", flush=True)
    started = time.monotonic()
    try:
        with log.open("w") as out:
            command = [sys.executable, "-m", "tests.fuzz", "--run", target, str(scratch), *flags]
            done = subprocess.run(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    elapsed = time.monotonic() - started
    stats = {name: int(value) for name, value in _STAT.findall(log.read_text(errors="replace"))}
    return Outcome(target, done.returncode, elapsed, stats, log)


def _report(outcomes: list[Outcome]) -> None:
    print(f"{'target':8} {'result':8} {'runs':>10} {'exec/s':>8} {'new units':>10} {'RSS MB':>7}")
    for o in outcomes:
        runs = o.stats.get("number_of_executed_units", 0)
        print(
            f"{o.target:8} {'ok' if o.ok else 'FAILED':8} {runs:>10} "
            f"{o.stats.get('average_exec_per_sec', 0):>8} "
            f"{o.stats.get('new_units_added', 0):>10} {o.stats.get('peak_rss_mb', 0):>7}"
        )
    for o in outcomes:
        if not o.ok:
            tail = o.log.read_text(errors="replace").splitlines()[-40:]
            print(f"\n{o.target}: exit {o.returncode}; end of {o.log}:\n" + "\n".join(tail))


def _child(target: str, scratch: Path, flags: list[str]) -> int:
    """Import the harness under instrumentation and hand over to libFuzzer (never returns)."""
    import atheris  # type: ignore[import-untyped, import-not-found, unused-ignore]

    with atheris.instrument_imports(include=["acr_reconcile", "yaml"]):
        harness = importlib.import_module(f"tests.fuzz.harness_{target}")
    harness.main([sys.argv[0], *flags], scratch)
    return 1  # unreachable: libFuzzer exits the process


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
