"""Sign and publish 1, 100 and 1,000 tags of one repository in one publish, against the
official notary CLI doing the same (``addhash`` per tag, then one ``publish``), on a real
notary-server started here; then verify (read) 1,000 signed tags. Target: 1,000 tags in
under 2 s and at least as fast as the CLI.

Run: ``python -m benchmarks.trust_sign`` (needs /usr/bin/notary-server and /usr/bin/notary).
"""

from __future__ import annotations

import hashlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e" / "trust"))

from trust_servers import PASSPHRASES, NotaryCli, make_pki, start_notary_server  # noqa: E402

from acr_reconcile.trust import Passphrases, TrustClient  # noqa: E402

SIZES = (1, 100, 1000)
REPEATS = 3
TARGET_SECONDS = 2.0


def _tags(prefix: str, count: int) -> dict[str, tuple[str, int]]:
    return {
        f"{prefix}-{i}": (hashlib.sha256(f"{prefix}{i}".encode()).hexdigest(), 500 + i)
        for i in range(count)
    }


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-trust-") as tmp:
        work = Path(tmp)
        pki = make_pki(work)
        server = start_notary_server(work, pki)
        try:
            _run(work, server.url, str(pki.ca), lambda d: NotaryCli(server.url, pki.ca, d))
        finally:
            server.stop()


def _client(url: str, ca: str, trust_dir: Path) -> TrustClient:
    passphrases = Passphrases(
        root=PASSPHRASES["NOTARY_ROOT_PASSPHRASE"],
        targets=PASSPHRASES["NOTARY_TARGETS_PASSPHRASE"],
        snapshot=PASSPHRASES["NOTARY_SNAPSHOT_PASSPHRASE"],
        delegation=PASSPHRASES["NOTARY_DELEGATION_PASSPHRASE"],
    )
    return TrustClient(
        server_url=url, token_source=None, verify=ca, trust_dir=trust_dir, passphrases=passphrases
    )


def _run(work: Path, url: str, ca: str, cli_for: Callable[[Path], NotaryCli]) -> None:
    ours_dir, cli_dir = work / "ours", work / "cli"
    ours = _client(url, ca, ours_dir)
    cli = cli_for(cli_dir)
    rows: list[tuple[str, float, float | None]] = []
    init = _timed(lambda: ours.publish("bench.test/new", add=_tags("n", 1000)))
    rows.append(("new repository + 1,000 tags (init, one upload)", init, None))
    rows += [_publish_row(ours, cli, size) for size in SIZES]
    big = f"bench.test/ours-{SIZES[-1]}"
    cold = _timed(lambda: _client(url, ca, work / "cold").read(big))
    warm = _timed(lambda: ours.read(big))
    cli_list = _timed(lambda: cli.run("list", f"bench.test/cli-{SIZES[-1]}"))
    rows.append(("verify 1,000+ signed tags, empty trust cache", cold, None))
    rows.append(("verify 1,000+ signed tags, warm trust cache", warm, cli_list))
    _print(rows)


def _publish_row(ours: TrustClient, cli: NotaryCli, size: int) -> tuple[str, float, float]:
    gun, cli_gun = f"bench.test/ours-{size}", f"bench.test/cli-{size}"
    ours.publish(gun, add={"base": (hashlib.sha256(b"base").hexdigest(), 1)})
    cli.run("init", cli_gun)
    cli.run("key", "rotate", cli_gun, "snapshot", "-r")  # server-held snapshot, as docker
    runs = range(REPEATS if size < 1000 else 1)
    our_times = [_timed(lambda r=r: ours.publish(gun, add=_tags(f"r{r}", size))) for r in runs]
    cli_times = [_timed(lambda r=r: _cli_publish(cli, cli_gun, size, r)) for r in runs]
    label = f"sign + publish {size:,} tag(s), existing repository"
    return label, statistics.median(our_times), statistics.median(cli_times)


def _cli_publish(cli: NotaryCli, gun: str, size: int, run: int) -> None:
    for tag, (digest, length) in _tags(f"r{run}", size).items():
        cli.run("addhash", gun, tag, str(length), "--sha256", digest)
    cli.run("publish", gun)


def _print(rows: list[tuple[str, float, float | None]]) -> None:
    print(f"{'operation':<52} {'acr-reconcile':>14} {'notary CLI':>11} {'speed-up':>9}")
    for label, ours, theirs in rows:
        cli_text = f"{theirs:10.3f}s" if theirs is not None else f"{'-':>11}"
        ratio = f"{theirs / ours:8.1f}x" if theirs else f"{'-':>9}"
        print(f"{label:<52} {ours:13.3f}s {cli_text} {ratio}")
    print("(median of 3 for 1 and 100 tags, one run for 1,000; 2-core machine shared with others)")
    thousand = next(ours for label, ours, _ in rows if label.startswith("sign + publish 1,000"))
    verdict = "met" if thousand < TARGET_SECONDS else "MISSED"
    print(f"target: 1,000 tags signed and published in < {TARGET_SECONDS:.0f} s: {verdict}")


if __name__ == "__main__":
    main()
