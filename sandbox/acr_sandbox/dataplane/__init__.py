"""The sandbox data plane: per registry a loginServer with the ACR token service in front
of the real docker-registry and notary-server.

``create_dataplane(config)`` is the one entry point the daemon uses.
"""

from __future__ import annotations

from acr_sandbox.contracts import DataPlane, DataPlaneConfig


def create_dataplane(config: DataPlaneConfig) -> DataPlane:
    from acr_sandbox.dataplane.plane import SandboxDataPlane

    return SandboxDataPlane(config)
