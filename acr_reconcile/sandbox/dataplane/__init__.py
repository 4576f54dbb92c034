"""The sandbox data plane (placeholder until the token service and real servers land).

``create_dataplane(config)`` is the one entry point the daemon uses.
"""

from __future__ import annotations

from acr_reconcile.sandbox.contracts import (
    DataPlane,
    DataPlaneConfig,
    Directory,
    ImportFailed,
    PartStatus,
    RegistryRecord,
)


class _NoDataPlane:
    """Assigns no data plane; importImage fails. Replaced by the real data plane."""

    async def start(self, directory: Directory) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def registry_created(self, registry: RegistryRecord) -> str:
        return f"{registry.name.lower()}.sandbox.invalid"

    async def registry_deleted(self, registry: RegistryRecord) -> None:
        return None

    async def import_image(
        self,
        target: RegistryRecord,
        *,
        source_login_server: str | None,
        source_image: str,
        target_tags: list[str],
        force: bool,
    ) -> None:
        raise ImportFailed("NotSupported", "the sandbox data plane is not available")

    def status(self) -> list[PartStatus]:
        return [PartStatus("data plane", False, "not available")]


def create_dataplane(config: DataPlaneConfig) -> DataPlane:
    return _NoDataPlane()
