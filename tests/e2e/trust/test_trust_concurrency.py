"""Two signers publishing different tags of one repository at the same moment both land:
the loser of the race gets VERSION from the server, re-reads, merges and retries."""

from __future__ import annotations

import hashlib
import shutil
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from trust_servers import ClientFactory, NotaryCli, NotaryServer

from acr_reconcile.trust import RepositoryTrust


def test_concurrent_publishes_both_land(
    make_client: ClientFactory, make_cli: Callable[[Path], NotaryCli], gun: str, tmp_path: Path
) -> None:
    first = tmp_path / "runner-a"
    make_client(first).publish(gun, add={"base": (hashlib.sha256(b"base").hexdigest(), 1)})
    second = tmp_path / "runner-b"
    shutil.copytree(first / "private", second / "private")  # same signer, another machine
    clients = {"a": make_client(first), "b": make_client(second)}
    rounds = 4
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    results: list[RepositoryTrust] = []

    def sign(name: str) -> None:
        try:
            for n in range(rounds):
                barrier.wait(timeout=30)
                tags = {
                    f"{name}{n}-{i}": (hashlib.sha256(f"{name}{n}{i}".encode()).hexdigest(), i)
                    for i in range(5)
                }
                results.append(clients[name].publish(gun, add=tags))
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=sign, args=(name,)) for name in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors
    expected = {"base"} | {
        f"{name}{n}-{i}" for name in "ab" for n in range(rounds) for i in range(5)
    }
    assert set(make_cli(tmp_path / "fresh").list(gun)) == expected
    assert set(make_client(tmp_path / "reader").read(gun).targets) == expected


def test_a_publish_that_loses_the_race_merges_and_retries(
    make_client: ClientFactory, notary_server: NotaryServer, gun: str, tmp_path: Path
) -> None:
    """Deterministic race: B publishes between A's read and A's upload."""
    first = tmp_path / "runner-a"
    make_client(first).publish(gun, add={"base": (hashlib.sha256(b"base").hexdigest(), 1)})
    second = tmp_path / "runner-b"
    shutil.copytree(first / "private", second / "private")
    other = make_client(second)
    calls = 0

    def now_with_interleaving() -> datetime:
        nonlocal calls
        calls += 1
        if calls == 2:  # A has read the repository and is about to sign
            other.publish(gun, add={"from-b": (hashlib.sha256(b"b").hexdigest(), 2)})
        return datetime.now(UTC)

    racing = make_client(first, now=now_with_interleaving)
    result = racing.publish(gun, add={"from-a": (hashlib.sha256(b"a").hexdigest(), 3)})

    assert set(result.targets) == {"base", "from-a", "from-b"}
    rejected = [
        line
        for line in notary_server.log.read_text().splitlines()
        if "old version" in line and gun in line
    ]
    assert len(rejected) == 1  # A's first upload was refused as stale, the retry landed
