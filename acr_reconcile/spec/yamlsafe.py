"""Bounded, safe YAML reading that remembers where every key and value came from.

Spec files arrive from pull requests, so the reader must never execute a tag, never blow
up on an alias bomb or a deeply nested document, and must point every later validation
error at a line and column. PyYAML's composer gives nodes with marks; this module turns
nodes into plain values itself (instead of a constructor) so it can refuse unknown tags,
repeated keys and non-string keys, and bound how much an alias may expand.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_DEPTH = 64
MAX_EXPANDED = 5_000  # values per document that aliases may repeat
MAX_ALIASES = 100  # alias uses per document

_YAML = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_YAML}{t}" for t in ("str", "int", "float", "bool", "null", "timestamp")}


@dataclass(frozen=True, order=True)
class Mark:
    line: int  # 1-based
    column: int  # 1-based


@dataclass(frozen=True)
class YamlProblem:
    mark: Mark
    path: str
    message: str


@dataclass
class ParsedDocument:
    """One YAML document as plain data, with the place of each dotted path."""

    index: int
    start: Mark
    value: Any = None
    places: dict[str, Mark] = field(default_factory=dict)  # where a path's error points
    keys: dict[str, Mark] = field(default_factory=dict)  # where a mapping key is written
    problems: list[YamlProblem] = field(default_factory=list)


def mark_of(node: Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


def join(path: str, part: str | int) -> str:
    return f"{path}.{part}" if path else str(part)


class _TooDeep(ComposerError):
    """Nesting beyond MAX_DEPTH: not a syntax error, a limit."""


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader whose composer refuses nesting deeper than MAX_DEPTH."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _TooDeep(
                    None,
                    None,
                    f"nesting is deeper than {MAX_DEPTH} levels",
                    self.peek_event().start_mark,  # type: ignore[no-untyped-call]
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _TooBig(Exception):
    def __init__(self, problem: YamlProblem) -> None:
        self.problem = problem


class _Converter:
    """Node graph of one document -> plain values, recording places and problems.

    Values written once are bounded by the file size; only what aliases repeat is counted
    against MAX_EXPANDED, so a large honest spec passes and an alias bomb does not.
    """

    def __init__(self, doc: ParsedDocument) -> None:
        self.doc = doc
        self.expanded = 0  # values produced by repeating an anchored node
        self.aliases = 0
        self.inside_alias = 0
        self.seen: set[int] = set()
        self.first_alias: YamlProblem | None = None
        self.scalars = SafeConstructor()

    def convert(self, node: Node, path: str, depth: int) -> Any:
        repeated = id(node) in self.seen and not self.inside_alias
        self.seen.add(id(node))
        if repeated:
            self.aliases += 1
            self.first_alias = self.first_alias or YamlProblem(mark_of(node), path, "")
        self.inside_alias += repeated
        try:
            self._check_limits(node, path, depth)
            return self._value(node, path, depth)
        finally:
            self.inside_alias -= repeated

    def _value(self, node: Node, path: str, depth: int) -> Any:
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        if node.tag not in (f"{_YAML}seq", f"{_YAML}map"):
            return self._problem(node, path, f"YAML tag {node.tag!r} is not allowed in a spec")
        if isinstance(node, SequenceNode):
            return [self._child(item, join(path, i), depth) for i, item in enumerate(node.value)]
        assert isinstance(node, MappingNode)
        return self._mapping(node, path, depth)

    def _check_limits(self, node: Node, path: str, depth: int) -> None:
        self.expanded += bool(self.inside_alias)
        if depth > MAX_DEPTH and not self.inside_alias:
            message = f"nesting below this field is deeper than {MAX_DEPTH} levels"
            field = ".".join(path.split(".")[:3])
            raise _TooBig(YamlProblem(mark_of(node), field, message))
        if self.expanded > MAX_EXPANDED or self.aliases > MAX_ALIASES or depth > MAX_DEPTH:
            message = (
                f"aliases expand to more than {MAX_EXPANDED} values, are used more than "
                f"{MAX_ALIASES} times or nest deeper than {MAX_DEPTH} levels (an alias that "
                "refers to itself never ends)"
            )
            where = self.first_alias or YamlProblem(mark_of(node), path, "")
            raise _TooBig(YamlProblem(where.mark, where.path, message))

    def _child(self, node: Node, path: str, depth: int) -> Any:
        self.doc.places[path] = mark_of(node)
        return self.convert(node, path, depth + 1)

    def _scalar(self, node: ScalarNode, path: str) -> Any:
        if node.tag not in _SCALAR_TAGS:
            return self._problem(node, path, f"YAML tag {node.tag!r} is not allowed in a spec")
        try:
            return self.scalars.construct_object(node)
        except (ValueError, yaml.YAMLError) as error:
            reason = str(error).splitlines()[0]
        except (KeyError, IndexError, AttributeError):
            # PyYAML's constructors trust that the text matched the tag's pattern; an explicit
            # tag (``!!bool x``, ``!!int ''``, ``!!timestamp x``) skips that match.
            reason = f"{node.value!r} is not written as one"
        return self._problem(node, path, f"cannot read this {node.tag[len(_YAML) :]}: {reason}")

    def _mapping(self, node: MappingNode, path: str, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node, path)
            if key is None:
                continue
            child = join(path, key)
            if key in result:
                first = self.doc.keys[child]
                message = f"key {key!r} is repeated (first at line {first.line}:{first.column})"
                self._problem(key_node, child, message)
                continue
            self.doc.keys[child] = mark_of(key_node)
            result[key] = self._child(value_node, child, depth)
            if not isinstance(value_node, ScalarNode):
                self.doc.places[child] = mark_of(key_node)
        return result

    def _key(self, node: Node, path: str) -> str | None:
        if isinstance(node, ScalarNode) and node.tag == f"{_YAML}merge":
            self._problem(node, path, "YAML merge keys (<<) are not supported; write the fields")
            return None
        if not isinstance(node, ScalarNode) or node.tag != f"{_YAML}str":
            shown = node.value if isinstance(node, ScalarNode) else "a collection"
            self._problem(node, path, f"keys must be strings; quote {shown!r} if it is a name")
            return None
        return str(node.value)

    def _problem(self, node: Node, path: str, message: str) -> None:
        self.doc.problems.append(YamlProblem(mark_of(node), path, message))


def _convert(node: Node | None, index: int) -> ParsedDocument:
    if node is None:
        return ParsedDocument(index, Mark(1, 1))
    doc = ParsedDocument(index, mark_of(node))
    doc.places[""] = doc.start
    try:
        doc.value = _Converter(doc).convert(node, "", 0)
    except _TooBig as error:
        doc.value = None
        doc.problems = [error.problem]
    return doc


def _documents(loader: Any) -> Iterator[Node | None]:
    while loader.check_node():
        yield loader.get_node()


# Characters YAML forbids in a stream (YAML 1.1 "printable"), found before parsing so the
# position is exact whichever parser runs.
_NON_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


def _loader(text: str) -> Any:
    """libyaml's composer when present (several times faster), else the bounded pure one.

    libyaml refuses nesting beyond 1000 levels itself; the converter enforces MAX_DEPTH.
    """
    if getattr(yaml, "__with_libyaml__", False):
        return yaml.CSafeLoader(text)
    return _BoundedLoader(text)


def parse(text: str) -> tuple[list[ParsedDocument], YamlProblem | None]:
    """Every document of ``text``, and the syntax problem that stopped reading, if any."""
    bad = _NON_PRINTABLE.search(text)
    if bad:
        message = f"character {_codepoint(bad.group())} is not allowed in YAML"
        return [], YamlProblem(position_mark(text, bad.start()), "", message)
    docs: list[ParsedDocument] = []
    loader = _loader(text)
    try:
        for node in _documents(loader):
            docs.append(_convert(node, len(docs)))
    except yaml.MarkedYAMLError as error:
        return docs, _syntax_problem(error, text)
    finally:
        loader.dispose()
    return docs, None


def _syntax_problem(error: yaml.MarkedYAMLError, text: str) -> YamlProblem:
    mark = error.problem_mark or error.context_mark
    where = Mark(mark.line + 1, mark.column + 1) if mark else Mark(1, 1)
    if isinstance(error, _TooDeep):
        return YamlProblem(where, "", str(error.problem))
    if mark is not None and _tab_indented(text, mark.line, mark.column):
        return YamlProblem(where, "", "YAML does not allow tabs for indentation: use spaces")
    message = f"YAML syntax: {error.problem or error.context}"
    if error.problem and error.context and error.context_mark:
        start = error.context_mark
        message += f" ({error.context} started at {start.line + 1}:{start.column + 1})"
    return YamlProblem(where, "", message)


def _tab_indented(text: str, line: int, column: int) -> bool:
    """Whether the error (0-based ``line``/``column``) sits in a line's indentation that
    holds a tab: YAML forbids tabs there, and the parser's own words for it ("cannot start
    any token", "violates indentation") do not say what to do."""
    lines = text.split("\n")
    if not 0 <= line < len(lines):
        return False
    row = lines[line]
    indentation = row[: len(row) - len(row.lstrip(" \t"))]
    return "\t" in indentation and column <= len(indentation)


def _codepoint(character: str | int) -> str:
    code = character if isinstance(character, int) else ord(character)
    return f"U+{code:04X}"


def position_mark(text: str, offset: int) -> Mark:
    """Line and column of a character offset in ``text``."""
    before = text[:offset]
    line = before.count("\n") + 1
    return Mark(line, offset - (before.rfind("\n") + 1) + 1)
