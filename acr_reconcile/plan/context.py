"""What the planner knows while it plans one spec document, and where its findings go.

Each resource planner (control plane, role assignments, images) reads the same document,
live facts and rules and appends changes and diagnostics here, so the steps stay small
functions and the reasons (drift vs spec-changed vs missing) are decided in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from acr_reconcile.errors import Diagnostic
from acr_reconcile.live.state import APPLIED_TAG, LiveRegistryData, LiveState, PlatformRules
from acr_reconcile.plan import names
from acr_reconcile.plan.fingerprint import desired_fingerprint
from acr_reconcile.plan.model import Change, Reason
from acr_reconcile.spec.document import SpecDocument

# Diagnostic detail marking a warning that apply enforces as an error before its first write.
BLOCKS, BLOCKS_APPLY = "blocks", "apply"


@dataclass
class DocumentContext:
    """One document being planned: inputs, derived identities, and the collected output."""

    doc: SpecDocument
    live: LiveState
    rules: PlatformRules
    data: LiveRegistryData | None  # the registry as found in its subscription, if anywhere
    changes: list[Change] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    blocked: bool = False  # the registry cannot be planned further (wrong RG, location)

    @property
    def subscription(self) -> str:
        return self.doc.spec.subscription_id

    @property
    def registry_name(self) -> str:
        return self.doc.spec.registry.name

    @property
    def target(self) -> str:
        return names.target_key(self.subscription, self.registry_name)

    @property
    def registry_id(self) -> str:
        if self.data is not None:
            return self.data.registry.id
        spec = self.doc.spec
        return names.registry_id(spec.subscription_id, spec.resource_group.name, spec.registry.name)

    @property
    def login_server(self) -> str | None:
        return self.data.registry.login_server if self.data is not None else None

    @cached_property
    def desired(self) -> str:
        """The document's desired-state hash (computed once: every change asks)."""
        return desired_fingerprint(self.doc)

    @property
    def applied(self) -> bool:
        """True when the registry says this exact document was the last one applied."""
        if self.data is None:
            return False
        return self.data.registry.tags.get(APPLIED_TAG) == self.desired

    def absent_reason(self) -> Reason:
        """Why an absent thing is planned: removed out of band (drift) or never made (missing)."""
        return Reason.DRIFT if self.applied else Reason.MISSING

    def changed_reason(self) -> Reason:
        """Why a present-but-different thing is planned: drift or a changed spec."""
        return Reason.DRIFT if self.applied else Reason.SPEC_CHANGED

    def where(self, path: str) -> str:
        return self.doc.where(path)

    def add(self, change: Change) -> Change:
        self.changes.append(change)
        return change

    def report(
        self,
        severity: str,
        resource: str,
        message: str,
        path: str,
        rule: str,
        extra: dict[str, str] | None = None,
    ) -> None:
        """Record a finding at the spec field ``path``; ``rule`` names it for machines."""
        details: dict[str, str] = {"rule": rule, "target": self.target, **(extra or {})}
        self.diagnostics.append(
            Diagnostic(severity, resource, message, location=self.where(path), details=details)
        )

    def error(self, resource: str, message: str, path: str, rule: str) -> None:
        self.report("error", resource, message, path, rule)

    def warn(self, resource: str, message: str, path: str, rule: str) -> None:
        self.report("warning", resource, message, path, rule)

    def apply_needs(self, resource: str, message: str, path: str, rule: str) -> None:
        """Something only the writes need (signing keys, passphrases): a plan is complete
        without it, so plan warns, and apply refuses to start until it is there (see
        ``apply/readiness.py``). Read-only jobs then never fail for lack of secrets."""
        self.report("warning", resource, message, path, rule, {BLOCKS: BLOCKS_APPLY})

    def note(self, resource: str, message: str, path: str, rule: str) -> None:
        self.report("info", resource, message, path, rule)

    @property
    def resource_group(self) -> str:
        return self.doc.spec.resource_group.name
