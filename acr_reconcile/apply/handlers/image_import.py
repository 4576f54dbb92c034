"""Image import: ARM ``importImage`` (long-running) copies a missing tag from its source.

Run-time re-check: when the tag is already in the registry (someone pushed it since the
plan), nothing is imported; ``NoForce`` keeps an import from ever overwriting a tag.
"""

from __future__ import annotations

from collections.abc import Sequence

from acr_reconcile.apply import retry
from acr_reconcile.apply.context import ApplyContext
from acr_reconcile.apply.handlers.common import registry_coordinates
from acr_reconcile.plan.model import Change, ImageImportParams


def apply(changes: Sequence[Change], ctx: ApplyContext) -> str:
    from azure.mgmt.containerregistry.models import ImportImageParameters, ImportSource

    change = changes[0]
    params = change.params_as(ImageImportParams)
    sub, group, name = registry_coordinates(params)
    repository, tag = params.repository, params.tag
    registries = ctx.session.registries(sub).registries
    # the source as the planner parsed it (spec/reference.py), shown in the plan
    body = ImportImageParameters(
        source=ImportSource(registry_uri=params.source_registry, source_image=params.source_image),
        target_tags=[params.target_tag],
        mode=params.mode,
    )

    def run() -> str:
        if ctx.tag_digest is not None:
            live = registries.get(group, name).as_dict()
            login_server = str((live.get("properties") or {}).get("loginServer", ""))
            if ctx.tag_digest(login_server, repository, tag) is not None:
                return "already present"
        registries.begin_import_image(group, name, body).result()
        return "imported"

    return retry.call(run, change.resource_id, f"importing {repository}:{tag}", ctx.retry)
