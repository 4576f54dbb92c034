"""The documents the docs show, read from the docs themselves, so a test checks the text a
reader copies rather than a copy of it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "specs" / "reference.md"
_COMPLETE = re.compile(
    r"^## A complete document\n(?:(?!^## ).)*?^```yaml\n(.*?)^```$", re.MULTILINE | re.DOTALL
)


def complete_document() -> str:
    """The YAML block right after the heading "## A complete document" of the reference."""
    found = _COMPLETE.search(REFERENCE.read_text(encoding="utf-8"))
    assert found, "specs/reference.md has no YAML block under '## A complete document'"
    return found[1]
