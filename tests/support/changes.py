"""Typed change parameters for tests that build changes by hand (scheduling, renderers).

The values are placeholders of the right type; a test names only the fields it cares about.
"""

from __future__ import annotations

from typing import Any

from acr_reconcile.plan.model import (
    ChangeParams,
    ImageImportParams,
    Kind,
    RegistryParams,
    ResourceGroupParams,
    RoleAssignmentParams,
    TagSignatureParams,
    TrustPolicyParams,
)

SUB = "00000000-0000-0000-0000-000000000000"
_SCOPE = {"subscription_id": SUB, "resource_group": "rg", "registry": "registrydavid"}
_DEFAULTS: dict[Kind, tuple[type[ChangeParams], dict[str, Any]]] = {
    Kind.RESOURCE_GROUP: (
        ResourceGroupParams,
        {"subscription_id": SUB, "resource_group": "rg", "location": "westeurope", "tags": {}},
    ),
    Kind.REGISTRY: (
        RegistryParams,
        {**_SCOPE, "location": "westeurope", "sku": "Premium", "admin_user_enabled": False}
        | {"tags": {}},
    ),
    Kind.TRUST_POLICY: (TrustPolicyParams, {**_SCOPE, "status": "enabled", "destructive": False}),
    Kind.ROLE_ASSIGNMENT: (
        RoleAssignmentParams,
        {**_SCOPE, "scope": "/subscriptions/s", "name": "n", "principal_id": "p"}
        | {"principal_type": "ServicePrincipal", "role_definition_guid": "g"},
    ),
    Kind.IMAGE_IMPORT: (
        ImageImportParams,
        {**_SCOPE, "login_server": None, "repository": "hello-world", "tag": "signed"}
        | {"source": "hello-world", "source_registry": "docker.io"}
        | {"source_image": "library/hello-world", "target_tag": "hello-world:signed"}
        | {"mode": "NoForce", "digest": None},
    ),
    Kind.TAG_SIGNATURE: (
        TagSignatureParams,
        {**_SCOPE, "login_server": None, "repository": "hello-world", "tag": "signed"}
        | {"gun": None, "digest": None, "size": None, "role": "targets", "initialize": True},
    ),
}


def params_for(kind: Kind, **fields: Any) -> ChangeParams:
    """Parameters of a ``kind`` change: placeholders, overridden by ``fields``."""
    params_type, defaults = _DEFAULTS[kind]
    return params_type(**{**defaults, **fields})
