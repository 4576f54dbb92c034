"""The committed JSON Schema is the models' current output and agrees with the loader."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from spec_helpers import VALID, Cli

from acr_reconcile.spec.schema import schema_text, spec_schema

ROOT = Path(__file__).parents[3]
COMMITTED = ROOT / "specs" / "acr-reconcile.schema.json"
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def test_committed_schema_is_current() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == schema_text(), (
        "specs/acr-reconcile.schema.json is stale: run `make schema`"
    )


def test_schema_command_prints_the_schema(cli: Cli) -> None:
    run = cli("schema")
    assert run.code == 0
    assert json.loads(run.out) == spec_schema()


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = spec_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["apiVersion"]["const"] == "acr-reconcile/v1"
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_examples_satisfy_the_schema(example: Path) -> None:
    validator = jsonschema.Draft202012Validator(spec_schema())
    documents = list(yaml.safe_load_all(example.read_text(encoding="utf-8")))
    assert documents
    for document in documents:
        assert list(validator.iter_errors(document)) == []


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("name: registrydavid", "name: reg-david"),
        ("sku: Premium", "sku: Free"),
        ("[AcrImageSigner, AcrPush]", "[Owner]"),
        ("tags: [signed]", "tags: [.signed]"),
        ("kind: RegistryTrust", "kind: Registry"),
        ("  sku: Premium\n", "  sku: Premium\n  skuu: Premium\n"),
    ],
)
def test_schema_flags_what_the_loader_refuses(old: str, new: str) -> None:
    document = yaml.safe_load(VALID.replace(old, new))
    validator = jsonschema.Draft202012Validator(spec_schema())
    assert list(validator.iter_errors(document)) != []


def test_every_example_starts_with_the_schema_modeline() -> None:
    for example in EXAMPLES:
        first = example.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../specs/acr-reconcile.schema.json"


def _field_names(schema: dict[str, object]) -> set[str]:
    names: set[str] = set()
    for part in [schema, *schema["$defs"].values()]:  # type: ignore[attr-defined]
        names |= set(part.get("properties", {}))  # type: ignore[union-attr]
    return names


def test_reference_documents_every_field() -> None:
    reference = (ROOT / "specs" / "reference.md").read_text(encoding="utf-8")
    missing = [name for name in _field_names(spec_schema()) if f"| `{name}` |" not in reference]
    assert missing == []
