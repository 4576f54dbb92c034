"""Findings for a person at a terminal, on stderr: where first, then what, then which.

Each finding starts with ``FILE:LINE:COL:`` (editors and CI jump to it), then the
severity and message; under it the spec line itself with a caret at the column, as
Terraform shows the source, then the field and the resource concerned. A warning the
whole fleet shares is said once: the first place in full, then "and 12 more
registries" with a few of their places. Errors are never merged (each needs its fix).
With a ``width`` (the terminal's), messages wrap to it; a log (no width) keeps one line
per message so it stays greppable.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterable

from acr_reconcile.errors import Diagnostic
from acr_reconcile.plan.grouping import SHOWN, group_diagnostics

# the text of line N of FILE, or None when the file cannot be read (a saved plan's spec)
SourceLine = Callable[[str, int], str | None]
_LOCATION = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+)(?::\s*(?P<path>.*))?$")
_LABEL = {"error": "error", "warning": "warning"}
_MAX_SNIPPET = 160


def _wrap(text: str, width: int | None, indent: str = "", first: str = "") -> list[str]:
    if not width:
        return [first + text]
    return textwrap.wrap(
        text,
        width=max(width, 40),
        initial_indent=first,
        subsequent_indent=indent,
        break_on_hyphens=False,
        break_long_words=True,
    ) or [first]


def _fold(text: str, width: int) -> list[str]:
    """A place (a path) wider than the terminal, cut at the width: it has no spaces to
    break at, and a place split over lines still reads whole when the terminal joins them."""
    return [text[i : i + width] for i in range(0, len(text), width)]


def _snippet(source: SourceLine | None, file: str, line: int, column: int) -> list[str]:
    text = source(file, line) if source else None
    if text is None:
        return []
    text = text.rstrip("\n").expandtabs(1)[:_MAX_SNIPPET]
    number = f"{line:>5} | "
    caret = " " * (len(number) - 2) + "| " + " " * max(column - 1, 0) + "^"
    return [number + text, caret]


def _one(d: Diagnostic, source: SourceLine | None, width: int | None) -> list[str]:
    label = _LABEL.get(d.severity, "note")
    found = _LOCATION.match(d.location or "")
    if not found:
        return [*_wrap(f"{label}: {d.message}", width, "    "), f"  on {_short(d.resource, width)}"]
    head = f"{found['file']}:{found['line']}:{found['col']}: {label}: "
    if width and len(head) > max(width, 40) - 20:  # a long path: the place on its own line(s)
        lines = _fold(head.rstrip(), max(width, 40)) + _wrap(d.message, width, "    ", "    ")
    else:
        lines = _wrap(d.message, width, "    ", first=head)
    lines += _snippet(source, found["file"], int(found["line"]), int(found["col"]))
    if found["path"]:
        lines.append(f"  field {found['path']}")
    lines += _wrap(_short(d.resource, width), width, "     ", first="  on ")
    return lines


_ARM_REGISTRY = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/"
    r"Microsoft\.ContainerRegistry/registries/(?P<name>[^/]+)(?P<rest>/.*)?$",
    re.IGNORECASE,
)


def _short(resource: str, width: int | None) -> str:
    """On a terminal narrower than an ARM id, the registry by name; a log keeps the id."""
    found = _ARM_REGISTRY.match(resource)
    if width is None or found is None or len(resource) + 5 <= width:
        return resource
    rest = " (a role assignment)" if found["rest"] else ""
    return f"registry {found['name']} in {found['rg']}, subscription {found['sub']}{rest}"


def _more(group: list[Diagnostic], width: int | None) -> list[str]:
    rest = group[1:]
    if not rest:
        return []
    distinct = len({d.resource for d in group}) == len(group)
    noun = ("registry" if len(rest) == 1 else "registries") if distinct else "place(s)"
    places = [_LOCATION.sub(r"\g<file>:\g<line>:\g<col>", d.location or d.resource) for d in rest]
    listed = ", ".join(places[:SHOWN]) + (
        f" and {len(places) - SHOWN} more" if len(places) > SHOWN else ""
    )
    return _wrap(f"and {len(rest)} more {noun}: {listed}", width, "    ", first="  ")


def render_diagnostics(
    diagnostics: Iterable[Diagnostic],
    *,
    source: SourceLine | None = None,
    width: int | None = None,
) -> str:
    """Every finding, grouped, blank-line separated; empty when there are none."""
    blocks = []
    for group in group_diagnostics(diagnostics):
        blocks.append("\n".join(_one(group[0], source, width) + _more(group, width)))
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def file_lines(cache: dict[str, list[str] | None] | None = None) -> SourceLine:
    """A SourceLine over files on disk, each read once (bounded: spec files are at most
    1 MiB, refused by the loader beyond that)."""
    seen: dict[str, list[str] | None] = {} if cache is None else cache

    def line_of(file: str, line: int) -> str | None:
        if file not in seen:
            try:
                with open(file, encoding="utf-8-sig") as handle:
                    seen[file] = handle.read(1024 * 1024 + 1).splitlines()
            except (OSError, UnicodeDecodeError):
                seen[file] = None
        lines = seen[file]
        return lines[line - 1] if lines is not None and 0 < line <= len(lines) else None

    return line_of
