"""A text plan on a terminal folds its lines to the width, losing nothing and keeping
the glyphs down the left edge; without a width (a log) no line is folded."""

from __future__ import annotations

import pytest
from plan_fixtures import new_plan
from rich.text import Text

from acr_reconcile.plan.render import render_text
from acr_reconcile.plan.render_wrap import fit

LONG = "  + role AcrImageSigner for ServicePrincipal release-pipeline (" + "a" * 36 + ")  [missing]"


@pytest.mark.parametrize("width", [40, 60, 80])
def test_a_plan_folded_to_a_width_fits_and_loses_nothing(width: int) -> None:
    whole = render_text(new_plan())
    folded = render_text(new_plan(), width=width)
    assert max(len(line) for line in whole.splitlines()) > 80  # there is something to fold
    assert all(len(line) <= width for line in folded.splitlines()), folded
    assert not any(line.endswith(" ") for line in folded.splitlines())
    assert "".join(folded.split()) == "".join(whole.split())  # every character, in order
    glyphs = [line[:4] for line in whole.splitlines() if line[:4] in ("  + ", "  ~ ", "  - ")]
    assert [line[:4] for line in folded.splitlines() if line[:4] in set(glyphs)] == glyphs


def test_without_a_width_no_line_is_folded() -> None:
    assert any(len(line) > 120 or len(line) > 80 for line in render_text(new_plan()).splitlines())
    assert render_text(new_plan()) == render_text(new_plan(), width=None)


def test_a_line_folds_at_spaces_under_its_change() -> None:
    pieces = [p.plain for p in fit(Text(LONG), 60)]
    assert pieces[0] == "  + role AcrImageSigner for ServicePrincipal"
    assert all(p.startswith("      ") and not p.startswith("       ") for p in pieces[1:])
    assert pieces[-1].endswith("[missing]")


def test_a_word_longer_than_the_room_is_broken_not_cut() -> None:
    digest = "sha256:" + "0123456789abcdef" * 4
    pieces = [p.plain for p in fit(Text(f"        + digest = {digest}"), 40)]
    assert all(len(p) <= 40 for p in pieces)
    assert "".join(p.strip() for p in pieces[1:]).endswith(digest[-20:])
    assert "".join("".join(p.split()) for p in pieces) == f"+digest={digest}"


def test_colours_stay_on_their_words() -> None:
    line = Text.assemble("  ", ("+ ", "green"), "x " * 40, ("[missing]", "dim"))
    pieces = fit(line, 30)
    assert pieces[0].spans[0].style == "green"
    last = pieces[-1]
    assert any(last.plain[s.start : s.end] == "[missing]" and s.style == "dim" for s in last.spans)
