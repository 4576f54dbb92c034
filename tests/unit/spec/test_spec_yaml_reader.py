"""The YAML reader gives the same answers with libyaml and with the pure-Python parser."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from acr_reconcile.spec import yamlsafe
from acr_reconcile.spec.yamlsafe import Mark, parse

EXAMPLES = Path(__file__).parents[3] / "examples"
BAD = Path(__file__).parent / "bad"


@pytest.fixture(params=["libyaml", "pure"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "pure":
        monkeypatch.setattr(yaml, "__with_libyaml__", False)
    elif not yaml.__with_libyaml__:
        pytest.fail("PyYAML was built without libyaml; reinstall the binary wheel")
    return str(request.param)


def test_examples_read_the_same(parser: str) -> None:
    for example in EXAMPLES.glob("*.yaml"):
        docs, stopped = parse(example.read_text(encoding="utf-8"))
        assert stopped is None
        assert [d.value for d in docs] == list(yaml.safe_load_all(example.read_text()))


@pytest.mark.parametrize(
    ("name", "mark", "fragment"),
    [
        ("syntax-bad-indent.yaml", Mark(9, 2), "while parsing a block mapping started at 1:1"),
        ("syntax-unclosed-flow.yaml", Mark(18, 1), "flow sequence started at 17:11"),
        ("control-character.yaml", Mark(12, 13), "U+0007 is not allowed"),
    ],
)
def test_syntax_problems_are_placed_alike(
    parser: str, name: str, mark: Mark, fragment: str
) -> None:
    _, stopped = parse((BAD / name).read_text(encoding="utf-8"))
    assert stopped is not None
    assert (stopped.mark, fragment in stopped.message) == (mark, True)


@pytest.mark.parametrize("levels", [65, 5000])
def test_deep_nesting_is_refused_without_recursion_errors(parser: str, levels: int) -> None:
    docs, stopped = parse("a: " + "[" * levels + "]" * levels + "\n")
    problems = [p.message for d in docs for p in d.problems]
    if stopped is not None:
        problems.append(stopped.message)
    assert any("nesting" in m or "deeper" in m for m in problems), problems


def test_repeated_values_count_against_the_alias_budget_only(parser: str) -> None:
    honest = "items:\n" + "".join(
        f"  - {{name: n{i}, value: {i}}}\n" for i in range(3500)
    )  # 10 500 values
    docs, stopped = parse(honest)
    assert stopped is None and docs[0].problems == []
    shared = (
        "base: &b [" + ", ".join(["x"] * 200) + "]\n" + "".join(f"k{i}: *b\n" for i in range(60))
    )
    docs, _ = parse(shared)
    assert [p.path for p in docs[0].problems] == ["k0"]
    assert yamlsafe.MAX_EXPANDED < 60 * 200 < 3500 * 3 + yamlsafe.MAX_EXPANDED
