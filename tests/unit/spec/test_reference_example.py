"""examples/notation-sandbox.yaml is the reference's complete document, word for word (its
leading comment aside): the example a new user runs is the one the reference explains,
and the e2e test that plans the reference's block plans the example too."""

from __future__ import annotations

from acr_reconcile.spec.loader import load_text
from tests.support.reference import ROOT, complete_document


def test_the_sandbox_example_is_the_complete_document() -> None:
    text = (ROOT / "examples" / "notation-sandbox.yaml").read_text(encoding="utf-8")
    body = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("#"))
    assert body == complete_document()


def test_the_complete_document_signs_with_notation_on_a_registry_of_today() -> None:
    (document,) = load_text(complete_document(), "reference.md")
    assert document.spec.registry.content_trust.value == "disabled"
    assert document.spec.notation is not None and document.spec.notation.signing_key is not None


def test_the_readme_document_is_valid_and_signs_with_notation() -> None:
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first = re.search(r"```yaml\n(.*?)```", readme, re.DOTALL)
    assert first, "README.md shows no spec"
    (document,) = load_text(first[1], "README.md")  # a SpecError fails the test, naming why
    assert document.spec.notation is not None and document.spec.notation.signing_key is not None
