"""Fuzz target: spec files, as bytes on disk (``load_paths``) and as text (``load_text``).

Spec files come from pull requests. Whatever they hold, loading must end in documents or a
SpecError whose every issue is located (``FILE:LINE:COL``, one line each); any other
exception, or an issue that points nowhere, is a loader bug.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from acr_reconcile.errors import AcrReconcileError, SpecError
from acr_reconcile.spec.loader import load_paths, load_text

NAME = "fuzz.yaml"


class SpecTarget:
    """One fuzz input at a time, written to a file in a private temporary directory."""

    def __init__(self, base: Path) -> None:
        self.path = base / NAME

    def run(self, data: bytes) -> None:
        self.path.write_bytes(data)
        _load(lambda: load_paths([self.path]), str(self.path))
        _load(lambda: load_text(data.decode("utf-8", "surrogateescape"), NAME), NAME)


def check_text(text: str, *, strict: bool = False) -> None:
    """The property for text input, for callers without a file; ``strict`` re-raises the
    SpecError once its issues are checked, for callers that expect one."""
    _load(lambda: load_text(text, NAME), NAME, strict)


def _load(load: Callable[[], object], name: str, strict: bool = False) -> None:
    try:
        load()
    except SpecError as error:
        _check_issues(error, name)
        if strict:
            raise
    except AcrReconcileError:
        pass


def _check_issues(error: SpecError, name: str) -> None:
    assert error.issues, "a SpecError without issues"
    for issue in error.issues:
        assert issue.file == name, f"issue names {issue.file!r}, not {name!r}"
        assert issue.line >= 1 and issue.column >= 1, f"issue points nowhere: {issue}"
        assert "\n" not in str(issue) and "\r" not in str(issue), f"multi-line issue: {issue!r}"


def main(argv: list[str], workdir: Path) -> None:
    """Run under atheris (libFuzzer flags in ``argv``); never returns, so ``workdir`` is the
    caller's to remove."""
    import atheris  # type: ignore[import-untyped, import-not-found, unused-ignore]

    target = SpecTarget(workdir)
    atheris.Setup(argv, target.run)
    atheris.Fuzz()
