"""The pipeline and Kubernetes examples parse, and every acr-reconcile command in them
exists in the CLI with the flags it uses (so an example cannot rot silently)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from acr_reconcile.cli import build_parser

EXAMPLES = Path(__file__).parents[2] / "examples" / "pipelines"
FILES = sorted(EXAMPLES.glob("*.yaml"))
_COMMAND = re.compile(r"acr-reconcile\s+([^\n|>&;]+)")
# Pipeline expressions and shell variables stand in for values; give argparse a value.
_PLACEHOLDER = re.compile(r"\$\{\{[^}]*\}\}|\$\([^)]*\)|\"?\$\{?[A-Za-z_]+\}?(/\d+)?\"?")


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _containers(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if "image" in node and "name" in node:
            yield node
        for value in node.values():
            yield from _containers(value)
    elif isinstance(node, list):
        for value in node:
            yield from _containers(value)


def _command_lines(documents: list[Any]) -> list[list[str]]:
    found: list[list[str]] = []
    for doc in documents:
        for text in _strings(doc):
            for match in _COMMAND.finditer(text):
                line = _PLACEHOLDER.sub(lambda m: "0/4" if m.group(1) else "X", match[1])
                found.append(shlex.split(line))
        for container in _containers(doc):
            if "acr-reconcile" in container["image"] and "command" not in container:
                found.append([str(a) for a in container.get("args", [])])
    return [words for words in found if words and not words[0].startswith("-")]


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_example_parses_and_uses_only_real_commands_and_flags(path: Path) -> None:
    documents = list(yaml.safe_load_all(path.read_text()))
    assert documents and all(isinstance(d, dict) for d in documents)
    commands = _command_lines(documents)
    assert commands, f"{path.name} runs no acr-reconcile command"
    parser = build_parser()
    for words in commands:
        try:
            parser.parse_args(words)
        except SystemExit as exit_:  # argparse exits on unknown commands and flags
            pytest.fail(f"{path.name}: 'acr-reconcile {' '.join(words)}' is not valid ({exit_})")


def test_every_pipeline_kind_has_an_example() -> None:
    names = {p.name for p in FILES}
    assert {
        "github-actions.yaml",
        "azure-pipelines.yaml",
        "drift-cronjob.yaml",
        "sharded-indexed-job.yaml",
    } <= names


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_examples_install_the_tool_from_git_not_from_a_package_index(path: Path) -> None:
    """The tool is not published to a package index: `pip install acr-reconcile` fails."""
    text = path.read_text()
    assert not re.search(r"pip install\s+['\"]?acr-reconcile\b", text), path.name
    installs = re.findall(r"pip install [^\n]+", text)
    assert all("git+" in line or "GIT" in line for line in installs), installs


def test_the_drift_cronjob_checks_notation_signatures_with_read_only_rights() -> None:
    """Its spec is a valid Notation document with signed images (so every hourly plan
    verifies their signatures), and it asks for read-only roles, no key permission."""
    from acr_reconcile.spec.loader import load_text

    path = EXAMPLES / "drift-cronjob.yaml"
    text = path.read_text()
    config = next(d for d in yaml.safe_load_all(text) if d.get("kind") == "ConfigMap")
    (doc,) = load_text(config["data"]["registries.yaml"], "registries.yaml")
    assert doc.spec.notation is not None and doc.spec.notation.signing_key is not None
    assert any(image.sign for image in doc.spec.images)
    for role in ("Reader", "AcrPull", "Key Vault Reader"):
        assert role in text
    for role in ("Key Vault Crypto User", "AcrPush", "Contributor"):
        assert role not in text
    (job,) = [d for d in yaml.safe_load_all(text) if d.get("kind") == "CronJob"]
    (container,) = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert container["args"][0] == "plan"
