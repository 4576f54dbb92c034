"""The JSON Schema of spec v1, generated from the models so the two never disagree.

Editors (yaml-language-server) use it to complete and flag fields while typing; the
committed copy in ``specs/`` is checked against this output by the tests.
"""

from __future__ import annotations

import json
from typing import Any

from acr_reconcile.spec.models import API_VERSION, KIND, RegistryTrustSpec

SCHEMA_ID = "https://acr-reconcile.dev/schemas/acr-reconcile.schema.json"


def spec_schema() -> dict[str, Any]:
    """The schema of one spec document (a file may hold several)."""
    body = RegistryTrustSpec.model_json_schema(by_alias=True, mode="validation")
    properties = body["properties"]
    properties["apiVersion"] = {**properties["apiVersion"], "const": API_VERSION}
    properties["kind"] = {**properties["kind"], "const": KIND}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "acr-reconcile spec v1 (RegistryTrust)",
        "description": (
            "Desired state of one Azure Container Registry and its Docker Content Trust: "
            "resource group, Premium registry, trust policy, signer role assignments and "
            "signed or unsigned image tags. See specs/reference.md."
        ),
        **{k: v for k, v in body.items() if k not in ("title", "description")},
    }


def schema_text() -> str:
    """The schema as committed: sorted keys, two-space indent, trailing newline."""
    return json.dumps(spec_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
