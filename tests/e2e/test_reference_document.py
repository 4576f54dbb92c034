"""The "complete document" of specs/reference.md, as a reader copies it: it validates and
plans on the sandbox under today's rules (no new Docker Content Trust), without a single
error, and plans what it says: every resource it declares to be made.

The document is taken from the reference's text as it stands; only the sandbox is set up
for it (its seeded subscription and signer are the document's), never the text edited.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from acr_sandbox.testing import SandboxHandle
from tests.e2e.plan_apply_support import Cli, cli_runner
from tests.support.reference import complete_document

pytestmark = pytest.mark.e2e


@pytest.fixture
def today(sandbox: SandboxHandle) -> Iterator[None]:
    """A clean sandbox under today's content trust rules; the session's legacy rules back
    after (later modules rely on them)."""
    sandbox.reset_state()
    sandbox.settings(dct="current")
    yield
    sandbox.settings(dct="legacy")


@pytest.fixture
def cli(
    sandbox: SandboxHandle,
    today: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Cli:
    return cli_runner(
        sandbox.env() | {"DOCKER_CONFIG": str(tmp_path / "docker")}, monkeypatch, capsys
    )


def test_the_complete_document_validates_and_plans_cleanly(cli: Cli, tmp_path: Path) -> None:
    spec = tmp_path / "complete.yaml"
    spec.write_text(complete_document(), encoding="utf-8")
    validated = cli("validate", spec)
    assert validated.code == 0, validated.text
    planned = cli("plan", spec, "--detailed-exitcode", "--output", "json")
    assert planned.code == 2, planned.text  # changes, no error
    document = json.loads(planned.out)
    findings = [
        (d["severity"], d["details"].get("rule"), d["message"]) for d in document["diagnostics"]
    ]
    # no finding: apply signs with Notation on a registry of today's rules
    assert findings == [], findings
    made = [(c["kind"], c["summary"]) for c in document["changes"] if c["action"] == "create"]
    assert [c for c in document["changes"] if c["action"] not in ("create", "no-op")] == []
    kinds = [kind for kind, _ in made]
    for kind in ("resource-group", "registry", "key-vault", "signing-certificate"):
        assert kinds.count(kind) == 1, made
    signer = [s for k, s in made if k == "role-assignment" and "DavidServiceAccount" in s]
    assert len(signer) == 3, made  # AcrPush on the registry, two Key Vault roles on the vault
    assert sorted(s for k, s in made if k == "image-import") == [
        "import busybox:unsigned from docker.io/library/busybox:latest",
        "import hello-world:signed from docker.io/library/hello-world:latest",
    ]
    signatures = [s for k, s in made if k == "notation-signature"]
    assert len(signatures) == 1 and signatures[0].startswith(
        "notation signature hello-world:signed"
    )
    assert "cose, CN=release, O=Contoso" in signatures[0]


def test_the_complete_document_applies_and_then_plans_no_changes(cli: Cli, tmp_path: Path) -> None:
    """The README's quick start on the reference's document: apply makes it all, signing
    hello-world:signed in the sandbox's Key Vault, and a second plan finds nothing to do
    (the signature verifies under the document's trust policy, busybox stays unsigned)."""
    spec = tmp_path / "complete.yaml"
    spec.write_text(complete_document(), encoding="utf-8")
    applied = cli("apply", spec, "--auto-approve")
    assert applied.code == 0, applied.text
    assert "Apply complete!" in applied.out
    again = cli("plan", spec, "--detailed-exitcode")
    assert again.code == 0, again.text
    assert "No changes." in again.out
