"""Terminal output: rich on a TTY (colour unless NO_COLOR), plain text otherwise.

rich is imported on first use, never at start-up, so ``--help`` stays fast.
"""

from __future__ import annotations

import os
import sys
from contextlib import suppress
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console


def _colour_wanted(stream: object) -> bool:
    if "NO_COLOR" in os.environ:
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _console(*, stderr: bool) -> Console:
    """A console writing to whatever ``sys.stdout``/``sys.stderr`` is at write time (no
    file is bound), so a stream swapped after the first use (tests capturing output, an
    embedding program) is honoured; colour is decided once, from the stream at hand."""
    from rich.console import Console

    colour = _colour_wanted(sys.stderr if stderr else sys.stdout)
    return Console(
        stderr=stderr,
        no_color=not colour,
        highlight=False,
        soft_wrap=True,
        force_terminal=colour or None,
        emoji=False,
    )


def terminal_width(stream: object) -> int | None:
    """Columns of the terminal ``stream`` writes to (``COLUMNS`` wins, as for every
    tool), or None for a pipe or file: logs are not wrapped, so they stay greppable."""
    import shutil

    isatty = getattr(stream, "isatty", None)
    if not (isatty and isatty()):
        return None
    columns = shutil.get_terminal_size(fallback=(80, 24)).columns
    if "COLUMNS" not in os.environ:
        with suppress(AttributeError, OSError, ValueError):
            columns = os.get_terminal_size(stream.fileno()).columns  # type: ignore[attr-defined]
    return columns if columns >= 20 else 80


@cache
def stdout() -> Console:
    return _console(stderr=False)


@cache
def stderr() -> Console:
    return _console(stderr=True)


def print_error(message: str) -> None:
    """Print a user-facing error; markup in the message is not interpreted."""
    from rich.text import Text

    text = Text("error: ", style="bold red")
    text.append(message)
    stderr().print(text)
