"""Fixtures of the spec tests."""

from __future__ import annotations

import pytest
from spec_helpers import Cli


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """``cli("validate", path)``: exit code and output of one in-process run."""
    return Cli(capsys)
