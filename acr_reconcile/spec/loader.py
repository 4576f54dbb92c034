"""Spec files and directories -> validated :class:`SpecDocument` objects, or one SpecError.

Everything wrong with the input of a run is collected and reported together as
``FILE:LINE:COL: field.path: message`` (paths dotted in YAML spelling, list indexes as
numbers: ``signers.0.roles.1``), because a pull-request check that reveals one mistake
per push wastes everyone's time.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from acr_reconcile.errors import SpecError, SpecIssue
from acr_reconcile.spec.document import Location, SpecDocument
from acr_reconcile.spec.fleet import fleet_issues
from acr_reconcile.spec.messages import UNION_TAGS, message_for
from acr_reconcile.spec.models import API_VERSION, KIND, RegistryTrustSpec
from acr_reconcile.spec.notation_files import notation_file_issues
from acr_reconcile.spec.yamlsafe import Mark, ParsedDocument, join, parse, position_mark

MAX_FILE_BYTES = 1024 * 1024
SPEC_SUFFIXES = (".yaml", ".yml")
_FILE_START = Mark(1, 1)
API_GROUP = API_VERSION.partition("/")[0] + "/"
FOREIGN_HINT = f"apiVersion: {API_VERSION} (and kind: {KIND})"


def load_paths(
    paths: Sequence[str | Path], *, skipped: list[str] | None = None
) -> list[SpecDocument]:
    """Every document of every spec file named or found (recursively) in a directory.

    A YAML file found in a directory none of whose documents is an acr-reconcile document
    (a pipeline, a Kubernetes manifest) is skipped, its name added to ``skipped`` for the
    caller's note; named explicitly, it is an error (one per document, not per field)."""
    issues: list[SpecIssue] = []
    files = _spec_files(paths, issues)
    documents: list[SpecDocument] = []
    foreign: list[str] = []
    for name, path, found_in_directory in files:
        documents += _load_file(name, path, issues, foreign if found_in_directory else None)
    if foreign and not documents and not issues:
        found = ", ".join(foreign)
        message = f"no acr-reconcile spec here: every YAML file lacks {FOREIGN_HINT} ({found})"
        issues.append(_issue(str(paths[0]), "", message))
    if skipped is not None:
        skipped += foreign
    issues += fleet_issues(documents)
    issues += notation_file_issues(documents)
    if issues:
        raise SpecError(issues)
    return documents


def load_text(text: str, filename: str = "<text>") -> list[SpecDocument]:
    """The documents of ``text`` as if read from ``filename`` (no cross-file checks)."""
    issues: list[SpecIssue] = []
    documents = _load_documents(text, filename, issues)
    issues += fleet_issues(documents)
    if issues:
        raise SpecError(issues)
    return documents


def _spec_files(
    paths: Sequence[str | Path], issues: list[SpecIssue]
) -> list[tuple[str, Path, bool]]:
    """(name to show, path, found in a directory) of each file to read, each file once, in
    a stable order."""
    found: list[tuple[str, Path, bool]] = []
    if not paths:
        issues.append(SpecIssue("<arguments>", 1, 1, "", "no spec file or directory given"))
    for given in paths:
        path = Path(given)
        if path.is_dir():
            inside = _files_below(path)
            if not inside:
                issues.append(_issue(str(given), "", "directory holds no *.yaml or *.yml file"))
            found += [(str(p), p, True) for p in inside]
        elif path.is_file():
            found.append((str(given), path, False))
        elif path.exists():
            issues.append(_issue(str(given), "", "not a regular file or directory"))
        else:
            issues.append(_issue(str(given), "", "no such file or directory"))
    unique: dict[Path, tuple[str, Path, bool]] = {}
    for entry in found:
        unique.setdefault(entry[1].resolve(), entry)
    return list(unique.values())


def _files_below(directory: Path) -> list[Path]:
    """Spec files under ``directory``, sorted, skipping hidden files and directories."""
    result: list[Path] = []
    for root, dirs, names in os.walk(directory):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        result += [
            Path(root, n) for n in names if n.endswith(SPEC_SUFFIXES) and not n.startswith(".")
        ]
    return sorted(result)


def _one_line(text: str) -> str:
    """Escape line breaks and control characters a key or value may carry into a message."""
    return (
        text
        if text.isprintable()
        else "".join(
            c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
        )
    )


def _issue(file: str, path: str, message: str, mark: Mark = _FILE_START) -> SpecIssue:
    """One issue, kept to one line so each starts with FILE:LINE:COL."""
    return SpecIssue(_one_line(file), mark.line, mark.column, _one_line(path), _one_line(message))


def _load_file(
    name: str, path: Path, issues: list[SpecIssue], foreign: list[str] | None = None
) -> list[SpecDocument]:
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        issues.append(_issue(name, "", f"cannot read the file: {error.strerror or error}"))
        return []
    text = _decode(name, data, issues)
    return [] if text is None else _load_documents(text, name, issues, foreign)


def _decode(name: str, data: bytes, issues: list[SpecIssue]) -> str | None:
    """The file as text, refusing what is too large, binary or not UTF-8."""
    if len(data) > MAX_FILE_BYTES:
        issues.append(_issue(name, "", f"file is larger than {MAX_FILE_BYTES} bytes; split it"))
        return None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        issues.append(_issue(name, "", "the file is UTF-16; save it as UTF-8"))
        return None
    nul = data.find(b"\0")
    if nul >= 0:
        where = _byte_mark(data, nul)
        issues.append(_issue(name, "", "binary content (a NUL byte) is not a spec", where))
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        bad = data[error.start : error.start + 1].hex()
        message = f"the file is not UTF-8 (byte 0x{bad} cannot be decoded)"
        issues.append(_issue(name, "", message, _byte_mark(data, error.start)))
        return None


def _byte_mark(data: bytes, offset: int) -> Mark:
    before = data[:offset].decode("utf-8", "replace")
    return position_mark(before, len(before))


def is_ours(value: object) -> bool:
    """An acr-reconcile document says so: ``apiVersion: acr-reconcile/…``, or at least our
    ``kind`` (a spec that forgot its apiVersion is still ours, and gets told so)."""
    if not isinstance(value, dict):
        return False
    version, kind = value.get("apiVersion"), value.get("kind")
    return (isinstance(version, str) and version.startswith(API_GROUP)) or kind == KIND


def _maybe_ours(doc: ParsedDocument) -> bool:
    """A document the YAML reader refused as a whole (alias bomb, deep nesting) is
    reported, never skipped: what it would have said is unknown. A mapping the reader
    kept is judged by its apiVersion and kind, even with a refused key (GitHub's ``on:``
    is the boolean true in YAML 1.1)."""
    value = doc.value
    listed = isinstance(value, list) and any(is_ours(item) for item in value)
    return (value is None and bool(doc.problems)) or is_ours(value) or listed


def _load_documents(
    text: str, name: str, issues: list[SpecIssue], foreign: list[str] | None = None
) -> list[SpecDocument]:
    parsed, stopped = parse(text)
    if (
        foreign is not None
        and stopped is None
        and parsed
        and not any(_maybe_ours(d) for d in parsed)
    ):
        foreign.append(name)
        return []
    if stopped is not None:
        issues.append(_issue(name, stopped.path, stopped.message, stopped.mark))
    elif not parsed:
        issues.append(_issue(name, "", "the file holds no YAML document"))
    documents: list[SpecDocument] = []
    for doc in parsed:
        document = _validate(doc, name, issues)
        if document is not None:
            documents.append(document)
    return documents


def _validate(doc: ParsedDocument, name: str, issues: list[SpecIssue]) -> SpecDocument | None:
    if isinstance(doc.value, dict) and not is_ours(doc.value):
        # Another tool's YAML: one error for the document, not one per field or key.
        version = doc.value.get("apiVersion")
        if isinstance(version, str):
            message = (
                f"apiVersion must be {API_VERSION}; got {version!r} (not a spec of this format)"
            )
            mark = doc.places.get("apiVersion", doc.start)
            issues.append(_issue(name, "apiVersion", message, mark))
        else:
            message = f"not an acr-reconcile document: it lacks {FOREIGN_HINT}"
            issues.append(_issue(name, "", message, doc.start))
        return None
    issues += [_issue(name, p.path, p.message, p.mark) for p in doc.problems]
    if doc.value is None:
        if not doc.problems:
            message = "the document is empty (a stray '---'?); a spec document is a mapping"
            issues.append(_issue(name, "", message, doc.start))
        return None
    if not isinstance(doc.value, dict):
        message = "a spec document must be a mapping (apiVersion, kind, subscriptionId, ...)"
        issues.append(_issue(name, "", message, doc.start))
        return None
    version = doc.value.get("apiVersion")
    if isinstance(version, str) and version != API_VERSION:
        # Another format (or version): checking it against v1 fields would only add noise.
        message = f"apiVersion must be {API_VERSION}; got {version!r} (not a spec of this format)"
        mark = doc.places.get("apiVersion", doc.start)
        issues.append(_issue(name, "apiVersion", message, mark))
        return None
    try:
        spec = RegistryTrustSpec.model_validate(doc.value)
    except ValidationError as error:
        found = [_pydantic_issue(e, doc, name) for e in error.errors(include_url=False)]
        issues += [i for i in found if not _explained(i.path, doc)]
        return None
    if doc.problems:
        return None
    locations = {path: Location(name, m.line, m.column) for path, m in doc.places.items()}
    return SpecDocument(spec=spec, file=name, index=doc.index, locations=locations)


def _explained(path: str, doc: ParsedDocument) -> bool:
    """Whether a YAML problem at or above ``path`` already explains a validation error.

    A refused tag or merge key leaves a gap in the data; the model's complaint about that
    gap would only repeat the problem less precisely.
    """
    return any(path == p.path or path.startswith(f"{p.path}.") for p in doc.problems)


def _pydantic_issue(error: ErrorDetails, doc: ParsedDocument, name: str) -> SpecIssue:
    path, mark = _locate(error, doc)
    return _issue(name, path, message_for(error, path), mark)


def _locate(error: ErrorDetails, doc: ParsedDocument) -> tuple[str, Mark]:
    """The dotted path an error is about and the nearest place written in the file."""
    path, mark = "", doc.start
    for part in error["loc"]:
        if part in UNION_TAGS:
            continue
        if part == "[key]":
            return path, doc.keys.get(path, mark)
        path = join(path, part)
        mark = doc.places.get(path, mark)
    if error["type"] == "extra_forbidden":
        mark = doc.keys.get(path, mark)
    return path, mark


def skipped_note(skipped: Sequence[str]) -> str | None:
    """The one line saying which YAML files a directory walk left out, and why."""
    if not skipped:
        return None
    shown = ", ".join(skipped[:3]) + (f" and {len(skipped) - 3} more" if len(skipped) > 3 else "")
    return (
        f"note: skipped {len(skipped)} YAML file(s) that are not acr-reconcile documents "
        f"(no apiVersion: {API_GROUP}…): {shown}"
    )
