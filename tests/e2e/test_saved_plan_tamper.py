"""A plan file edited between the plan job and the apply job changes nothing: apply plans
the file's documents again against live state and refuses unless the file's changes are
that plan; a change outside the documents' registries (Owner on the subscription, a prune
on a registry no document names) is refused whatever the file says; ``--spec`` also ties
the documents to the applying branch's spec files."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from acr_reconcile.plan.planfile import _document_from, documents_digest
from acr_sandbox.testing import SandboxHandle
from tests.e2e.plan_apply_support import REGISTRY, Cli, Walkthrough, writes

pytestmark = pytest.mark.e2e
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
INTRUDER = "99999999-9999-4999-8999-999999999999"


def _saved(cli: Cli, walkthrough: Walkthrough, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    path = tmp_path / "plan.json"
    planned = cli("plan", walkthrough.spec, "--out", path)
    assert planned.code == 0, planned.text
    return path, json.loads(path.read_text())


def _changes(data: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [c for c in data["plan"]["changes"] if c["kind"] == kind and c["action"] != "no-op"]


def _refused(
    cli: Cli, sandbox: SandboxHandle, path: Path, data: dict[str, Any], *extra: str
) -> str:
    path.write_text(json.dumps(data))
    sandbox.clear_requests()
    result = cli("apply", path, "--auto-approve", *extra)
    assert result.code == 1, result.text
    assert "the saved plan is refused" in result.err and "nothing was changed" in result.err
    assert "Traceback" not in result.text
    assert writes(sandbox.requests()) == []
    return result.err


def test_owner_on_the_subscription_for_another_principal_is_refused(
    cli: Cli, walkthrough: Walkthrough, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    path, data = _saved(cli, walkthrough, tmp_path)
    grant = copy.deepcopy(_changes(data, "role-assignment")[0])
    scope = f"/subscriptions/{sandbox.subscription_id}"
    name = "12345678-1234-4234-8234-123456789abc"
    grant["address"] = f"role-assignment:{scope}|{INTRUDER}|{OWNER}"
    grant["resource_id"] = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"
    grant["params"].update(
        scope=scope,
        name=name,
        principal_id=INTRUDER,
        role_definition_guid=OWNER,
        role_definition_id=f"{scope}/providers/Microsoft.Authorization/roleDefinitions/{OWNER}",
    )
    data["plan"]["changes"].append(grant)
    err = _refused(cli, sandbox, path, data)
    assert f"assigns at {scope}, not at its document's registry" in err


def test_a_delete_on_a_registry_no_document_names_is_refused(
    cli: Cli, walkthrough: Walkthrough, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    path, data = _saved(cli, walkthrough, tmp_path)
    prune = copy.deepcopy(_changes(data, "role-assignment")[0])
    other = prune["params"]["scope"].replace(REGISTRY, "someoneelsesregistry")
    name = "abcdefab-1234-4234-8234-123456789abc"
    prune.update(action="delete", address=f"role-assignment:{other}|x|y")
    prune["resource_id"] = f"{other}/providers/Microsoft.Authorization/roleAssignments/{name}"
    prune["params"].update(scope=other, registry="someoneelsesregistry", name=name)
    prune["params"].pop("role_definition_id", None)
    data["plan"]["changes"].append(prune)
    err = _refused(cli, sandbox, path, data)
    assert "outside every document's resource group and registry" in err


def test_a_changed_registry_setting_is_refused(
    cli: Cli, walkthrough: Walkthrough, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    path, data = _saved(cli, walkthrough, tmp_path)
    (registry,) = _changes(data, "registry")
    registry["params"]["admin_user_enabled"] = True
    err = _refused(cli, sandbox, path, data)
    assert "the file's params differ from its documents' plan" in err


def test_documents_edited_with_their_digests_are_caught_by_spec(
    cli: Cli, walkthrough: Walkthrough, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """An editor who changes the documents, the changes and both digests consistently
    leaves nothing inside the file to catch; the branch's spec files do."""
    path, data = _saved(cli, walkthrough, tmp_path)
    (registry,) = _changes(data, "registry")
    registry["params"]["admin_user_enabled"] = True
    data["documents"][0]["spec"]["registry"]["adminUserEnabled"] = True
    documents = [_document_from(d) for d in data["documents"]]
    data["documents_digest"] = data["content_digest"] = documents_digest(documents)
    err = _refused(cli, sandbox, path, data, "--spec", str(walkthrough.spec))
    assert "its documents are not the given spec files'" in err
    assert f"the document for /subscriptions/{sandbox.subscription_id}".lower() in err.lower()


def test_an_untouched_plan_applies_with_spec(
    cli: Cli, walkthrough: Walkthrough, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    path, _ = _saved(cli, walkthrough, tmp_path)
    applied = cli("apply", path, "--spec", walkthrough.spec)
    assert applied.code == 0, applied.text
    assert cli("plan", walkthrough.spec, "--detailed-exitcode").code == 0
