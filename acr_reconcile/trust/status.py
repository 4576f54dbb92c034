"""Map verified trust data onto what the planner diffs: per tag signed / stale / unsigned /
no trust data (invalid trust data never gets here: ``TrustClient.read`` raises), and the
local signing readiness, so a plan can say before apply that signing would fail."""

from __future__ import annotations

from pathlib import Path

from acr_reconcile.live.state import SigningReadiness, TagTrust
from acr_reconcile.trust.keys import KeyStore, Passphrases
from acr_reconcile.trust.service import RepositoryTrust, SignedTarget


def tag_trust(
    trust: RepositoryTrust, tag: str, digest: str | None, size: int | None
) -> tuple[TagTrust, SignedTarget | None]:
    """``digest`` is the registry's ``sha256:<hex>`` for the tag (None when absent).

    A signature for a tag the registry no longer serves, or for another manifest or size,
    is stale: docker would refuse the pull.
    """
    if not trust.exists:
        return TagTrust.NO_TRUST_DATA, None
    signed = trust.targets.get(tag)
    if signed is None:
        return TagTrust.UNSIGNED, None
    matches = digest == f"sha256:{signed.sha256_hex}" and size == signed.length
    return (TagTrust.SIGNED if matches else TagTrust.STALE), signed


def signing_readiness(
    trust_dir: Path, passphrases: Passphrases, *, interactive: bool = False
) -> SigningReadiness:
    """Presence only (no decryption, no secrets): cheap enough for every plan."""
    store = KeyStore(trust_dir, passphrases)
    return SigningReadiness(
        trust_dir=str(trust_dir),
        root_key_available=bool(store.root_entries()),
        root_passphrase_available=passphrases.root is not None,
        repository_passphrase_available=passphrases.targets is not None,
        interactive=interactive,
    )
