"""Image references as docker reads them: the one parser the planner (and so apply) uses.

``[host[:port]/]path[:tag][@digest]``: the first path component is a registry host when
it has a dot or a port or is ``localhost``; otherwise the reference is on Docker Hub.
Docker Hub answers to ``docker.io``, ``index.docker.io`` and ``registry-1.docker.io``
alike and is named ``docker.io`` here (what ARM importImage takes as ``registryUri``); a
single-component Hub name is an official image under ``library/``.
"""

from __future__ import annotations

from dataclasses import dataclass

DOCKER_HUB = "docker.io"
DOCKER_HUB_ALIASES = frozenset({DOCKER_HUB, "index.docker.io", "registry-1.docker.io"})


@dataclass(frozen=True)
class ImageSource:
    registry: str  # host[:port], Docker Hub as "docker.io"
    image: str  # path on that registry with its tag or digest, e.g. library/hello-world:latest


def parse_image_source(reference: str) -> ImageSource:
    """Split a reference the spec validated (spec/rules.py) into registry and image."""
    first, _, rest = reference.partition("/")
    host, path = DOCKER_HUB, reference
    if rest and ("." in first or ":" in first or first == "localhost"):
        host, path = first, rest
    if host in DOCKER_HUB_ALIASES:
        host = DOCKER_HUB
        if "/" not in path:
            path = f"library/{path}"  # official images live under library/ on Docker Hub
    return ImageSource(host, path)
