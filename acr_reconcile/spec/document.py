"""A validated spec document together with where each of its fields came from.

The planner and the renderers use the locations to point a finding at the exact
``FILE:LINE:COL`` of the spec field concerned (plan errors, GitHub annotations).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from acr_reconcile.spec.models import RegistryTrustSpec


@dataclass(frozen=True)
class Location:
    file: str
    line: int  # 1-based
    column: int  # 1-based

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class SpecDocument:
    """One YAML document of a spec file, validated.

    ``locations`` maps a dotted field path in YAML spelling (``registry.contentTrust``,
    ``signers.0.roles.1``, ``images.2.tags.0``) to where its value starts.
    """

    spec: RegistryTrustSpec
    file: str
    index: int  # 0-based position of the document in its file
    locations: Mapping[str, Location] = field(default_factory=dict)

    def location(self, path: str) -> Location:
        """The location of ``path``, or of its nearest located parent, or of the document."""
        probe = path
        while probe:
            if probe in self.locations:
                return self.locations[probe]
            probe = probe.rpartition(".")[0]
        return self.locations.get("", Location(self.file, 1, 1))

    def where(self, path: str) -> str:
        """``FILE:LINE:COL: path`` for messages that point at a spec field."""
        return f"{self.location(path)}: {path}"
