"""Image import: ARM ``importImage`` (long-running) copies a missing tag from its source.

Run-time re-check: when the tag is already in the registry (someone pushed it since the
plan), nothing is imported; ``NoForce`` keeps an import from ever overwriting a tag.
"""

from __future__ import annotations

from collections.abc import Sequence

from acr_reconcile.apply import retry
from acr_reconcile.apply.context import ApplyContext
from acr_reconcile.apply.handlers.common import param, registry_coordinates
from acr_reconcile.plan.model import Change


def split_source(source: str) -> tuple[str | None, str]:
    """("docker.io", "library/hello-world:latest") from a full image reference.

    The first path segment is a registry host when it has a dot or a port or is
    localhost, as in Docker's reference grammar; Docker Hub's short names get library/.
    """
    first, _, rest = source.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    image = source if "/" in source else f"library/{source}"
    return "docker.io", image


def apply(changes: Sequence[Change], ctx: ApplyContext) -> str:
    from azure.mgmt.containerregistry.models import ImportImageParameters, ImportSource

    change = changes[0]
    sub, group, name = registry_coordinates(change)
    repository, tag = str(param(change, "repository")), str(param(change, "tag"))
    registry_uri, source_image = split_source(str(param(change, "source")))
    if param(change, "source_image"):
        registry_uri, source_image = param(change, "source_registry"), param(change, "source_image")
    registries = ctx.session.registries(sub).registries
    body = ImportImageParameters(
        source=ImportSource(registry_uri=registry_uri, source_image=source_image),
        target_tags=[f"{repository}:{tag}"],
        mode=str(param(change, "mode") or "NoForce"),
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
