"""Fixtures the unit tests of hostile servers share: a self-signed certificate for the
fake HTTPS servers (tests/support/fake_https.py) and a list of the servers a test started,
stopped when it ends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fake_https import FakeServer, make_certificate


@pytest.fixture
def certs(tmp_path: Path) -> tuple[Path, Path, Path]:
    return make_certificate(tmp_path)


@pytest.fixture
def servers() -> Iterator[list[FakeServer]]:
    made: list[FakeServer] = []
    yield made
    for server in made:
        server.stop()
