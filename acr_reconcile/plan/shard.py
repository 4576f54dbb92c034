"""Deterministic fleet sharding for ``plan``/``apply --shard I/N``.

A large fleet is spread over the machines a team already runs jobs on (a Kubernetes
Indexed Job, a CI matrix): shard ``I`` of ``N`` (``I`` from 0, as Kubernetes'
``JOB_COMPLETION_INDEX`` and GitHub's ``strategy.job-index`` count) takes a contiguous,
balanced slice of the documents sorted by subscription, then registry name. Contiguous
slices keep a subscription's registries together, so each shard's batched reads (one list
per subscription) stay few; every document lands in exactly one shard, whatever N is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from acr_reconcile.errors import ConfigError
from acr_reconcile.spec.document import SpecDocument

_SHARD = re.compile(r"^(\d+)/(\d+)$")


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """``"I/N"`` with 0 <= I < N; anything else is a ConfigError naming the rule."""
    match = _SHARD.match(text.strip())
    if not match:
        raise ConfigError(f"--shard {text!r}: expected I/N, for example 0/4 (I counts from 0)")
    index, count = int(match[1]), int(match[2])
    if count < 1 or not 0 <= index < count:
        raise ConfigError(f"--shard {text!r}: I must be between 0 and N-1, and N at least 1")
    return Shard(index, count)


def _order(doc: SpecDocument) -> tuple[str, str]:
    return (doc.spec.subscription_id.lower(), doc.spec.registry.name.lower())


def select(documents: Sequence[SpecDocument], shard: Shard) -> list[SpecDocument]:
    """The documents shard ``shard`` owns, in fleet order."""
    ordered = sorted(documents, key=_order)
    total = len(ordered)
    start = shard.index * total // shard.count
    stop = (shard.index + 1) * total // shard.count
    return ordered[start:stop]
