"""What every action handler gets: clients, options, and the data plane seams."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from acr_reconcile.apply.migration import CarriedVerifier, MigrationLedger
from acr_reconcile.apply.retry import OuterRetry
from acr_reconcile.azure.clients import AzureSession
from acr_reconcile.plan.model import Change, NotationSignatureParams

if TYPE_CHECKING:
    from acr_reconcile.notation.signer import Signer
    from acr_reconcile.registry.client import RegistryClient


def _to_stderr(text: str) -> None:
    import sys

    print(text, file=sys.stderr, flush=True)


# publishes the signature changes of one repository (one GUN) in one trust publish
SignaturePublisher = Callable[[Sequence[Change]], str]
# the digest a tag points at in a registry (login server, repository, tag), None if absent
TagDigest = Callable[[str, str, str], str | None]


@dataclass(frozen=True)
class NotationSeams:
    """What signing with Notation needs from the composition root: the signer of a
    change's key (made once per key and run) and the registry client of a login server."""

    signer: Callable[[NotationSignatureParams, ApplyContext], Signer]
    registry: Callable[[str], RegistryClient]


@dataclass(frozen=True)
class ApplyContext:
    session: AzureSession
    allow_destroy_trust: bool = False
    # how long a new principal may take to reach ARM's directory replica (PrincipalNotFound)
    replication_window: float = 60.0
    retry: OuterRetry = field(default_factory=OuterRetry)
    publish_signatures: SignaturePublisher | None = None
    tag_digest: TagDigest | None = None
    # how long to wait for Key Vault to honour a role assignment this apply made (Azure
    # documents up to 10 minutes), and where to say that apply is waiting
    key_vault_window: float = 600.0
    say: Callable[[str], None] = field(default=_to_stderr)
    # the identity running apply (object id): its own role assignments are never pruned,
    # whoever made the plan
    caller_object_id: str | None = None
    # a migration from DCT: what this run wrote and verified, which its trust disable
    # needs (apply/migration.py), and the verifier of the carried signatures
    migration: MigrationLedger = field(default_factory=MigrationLedger)
    verify_carried: CarriedVerifier | None = None
    notation: NotationSeams | None = None
