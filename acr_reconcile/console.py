"""Terminal output: rich on a TTY (colour unless NO_COLOR), plain text otherwise.

rich is imported on first use, never at start-up, so ``--help`` stays fast.
"""

from __future__ import annotations

import os
import sys
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
