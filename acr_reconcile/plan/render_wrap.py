"""Lines of the text plan folded to a terminal's width, their colours kept.

A change line carries what a reviewer must read whole (a role's principal and registry,
an image's source, a digest): on a terminal it is folded, never cut, each continuation
indented under the change's text so the glyphs down the left edge still read as the
list of changes. Folding is at spaces, or inside a word longer than the room (an ARM id,
a digest). Only for a terminal: a log or a pipe keeps one line per change (the caller
passes no width), as Terraform's plan body does, so it stays greppable and diffable.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from rich.text import Text

# continuations start this far past the glyph, so they read as part of the line above
_HANG = 4
# below this much room per line, folding helps no one: the hang shrinks instead
_MIN_ROOM = 16


def _hang(plain: str, width: int) -> int:
    """The continuation indent: past the leading spaces and the ``+ ``/``~ `` glyph."""
    lead = len(plain) - len(plain.lstrip(" "))
    hang = lead + (2 if plain[lead : lead + 2] in ("+ ", "~ ", "- ", "= ", "! ") else 0)
    return min(hang + _HANG - 2, max(width - _MIN_ROOM, 0))


def _cuts(plain: str, width: int, hang: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each piece: as much as fits, broken at the last space in reach."""
    start, first = 0, True
    while True:
        room = width - (0 if first else hang)
        if len(plain) - start <= room:
            yield start, len(plain)
            return
        floor = start + (hang if first else 1)  # never break inside the indent
        space = plain.rfind(" ", floor, start + room + 1)
        end = space if space > floor else start + room
        yield start, end
        start = end
        while start < len(plain) and plain[start] == " ":
            start += 1
        first = False
        if start >= len(plain):
            return


def fit(line: Text, width: int, hang: int | None = None) -> list[Text]:
    """``line`` as one or more lines of at most ``width`` cells (styles kept); ``hang``:
    the continuations' indent (default: under the change's text)."""
    plain = line.plain
    if len(plain) <= width:
        return [line]
    hang = _hang(plain, width) if hang is None else min(hang, max(width - _MIN_ROOM, 0))
    pieces = []
    for n, (start, end) in enumerate(_cuts(plain, width, hang)):
        piece = line[start:end]
        piece.rstrip()  # the other of two spaces a cut fell between
        pieces.append(piece if n == 0 else Text(" " * hang) + piece)
    return pieces


def fit_all(lines: Iterable[Text], width: int) -> list[Text]:
    return [piece for line in lines for piece in fit(line, width)]
