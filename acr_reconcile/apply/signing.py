"""The data plane seams of apply: publishing signatures and reading a tag's digest.

A publish covers every signature change of one repository (one GUN) in one upload. It
re-reads at run time what it signs: the registry's login server (a registry created by
this apply had none at plan time) and each tag's manifest (an import of this apply made
it). A tag that moved away from the digest the plan showed is refused, not signed.

The registry's trust policy is read again right before a publish: another apply may have
disabled content trust (and deleted every signature) since this run planned. Signing
into it then would leave signatures the registry does not enforce and record a spec as
applied that the registry no longer matches; the publish fails instead, naming why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from acr_reconcile.apply.context import SignaturePublisher, TagDigest
from acr_reconcile.apply.handlers.common import registry_coordinates
from acr_reconcile.azure.clients import AzureSession
from acr_reconcile.errors import RegistryError
from acr_reconcile.plan.model import Action, Change, TagSignatureParams

if TYPE_CHECKING:
    from acr_reconcile.live.images import DataPlane
    from acr_reconcile.registry.client import RegistryClient


@dataclass(frozen=True)
class DataPlaneSeams:
    publish: SignaturePublisher | None = None
    tag_digest: TagDigest | None = None


def _login_server(session: AzureSession, change: Change, signing: bool) -> str:
    """The registry's login server, read now; with ``signing``, trust must still be on."""
    sub, group, name = registry_coordinates(change.params_as(TagSignatureParams))
    live = session.registries(sub).registries.get(group, name).as_dict()
    props = live.get("properties") or {}
    trust = ((props.get("policies") or {}).get("trustPolicy") or {}).get("status", "disabled")
    if signing and str(trust).lower() != "enabled":
        raise RegistryError(
            f"{change.resource_id}: content trust is {str(trust).lower()} on registry {name} "
            "now (another run changed it since this plan); nothing was signed: "
            "run plan again"
        )
    return str(props.get("loginServer", ""))


def _additions(registry: RegistryClient, changes: Sequence[Change]) -> dict[str, tuple[str, int]]:
    add: dict[str, tuple[str, int]] = {}
    for change in changes:
        if change.action is Action.DELETE:
            continue
        params = change.params_as(TagSignatureParams)
        repository, tag = params.repository, params.tag
        manifest = registry.manifest(repository, tag)
        if manifest is None:
            raise RegistryError(f"{change.resource_id}: the tag is not in the registry")
        planned = params.digest
        if planned and planned != manifest.digest:
            raise RegistryError(
                f"{change.resource_id}: the tag moved to {manifest.digest} since the plan "
                f"showed {planned}; run plan again"
            )
        add[tag] = (str(manifest.digest).removeprefix("sha256:"), int(manifest.size))
    return add


def publisher(session: AzureSession, data_plane: DataPlane) -> SignaturePublisher:
    def publish(changes: Sequence[Change]) -> str:
        first = changes[0]
        signing = any(c.action is not Action.DELETE for c in changes)
        server = _login_server(session, first, signing)
        gun = f"{server}/{first.params_as(TagSignatureParams).repository}"
        add = _additions(data_plane.registry(server), changes)
        remove = [c.params_as(TagSignatureParams).tag for c in changes if c.action is Action.DELETE]
        trust = data_plane.trust(server)
        current = trust.read(gun)
        signed = {t: (s.sha256_hex, s.length) for t, s in current.targets.items()}
        if all(signed.get(t) == v for t, v in add.items()) and not set(remove) & set(signed):
            return "already signed as planned"
        trust.publish(gun, add=add, remove=remove)
        parts = [f"signed {len(add)}"] + ([f"removed {len(remove)}"] if remove else [])
        return ", ".join(parts) + f" in {gun}"

    return publish


def data_plane_seams(session: AzureSession, data_plane: DataPlane) -> DataPlaneSeams:
    return DataPlaneSeams(publish=publisher(session, data_plane), tag_digest=data_plane.tag_digest)
