"""Spec issues as GitHub Actions workflow commands, so a pull request shows each on its line.

Escaping follows the workflow-command rules: ``%``, CR and LF in the message; also ``:``
and ``,`` in properties such as the file name.
"""

from __future__ import annotations

from collections.abc import Iterable

from acr_reconcile.errors import SpecIssue


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotations(issues: Iterable[SpecIssue]) -> list[str]:
    """One ``::error`` command per issue, at its file, line and column."""
    lines = []
    for issue in issues:
        title = f"acr-reconcile: {issue.path}" if issue.path else "acr-reconcile"
        props = ",".join(
            [
                f"file={_escape_property(issue.file)}",
                f"line={issue.line}",
                f"col={issue.column}",
                f"title={_escape_property(title)}",
            ]
        )
        lines.append(f"::error {props}::{_escape_data(issue.message)}")
    return lines
