"""Notary v1 (Docker Content Trust): verified reads and docker-compatible signing.

Entry point: :class:`TrustClient` (``read``, ``publish``, ``check_signing``).
"""

from acr_reconcile.trust.keys import Passphrases, default_trust_dir
from acr_reconcile.trust.service import (
    RepositoryTrust,
    SignedTarget,
    TrustClient,
    trust_server_url,
)

__all__ = [
    "Passphrases",
    "RepositoryTrust",
    "SignedTarget",
    "TrustClient",
    "default_trust_dir",
    "trust_server_url",
]
