"""One tag's Notary Project signatures as read from its registry and judged.

The signature manifests that name the tag's manifest as their subject are found through
the referrers API or the ``sha256-<hex>`` tag schema (``registry/referrers.py``); each is
read bounded and checked (manifest shape, subject, blob digest over the bytes fetched)
and its envelope verified under the document's trust policy. A signature that cannot be
read or checked is ``invalid`` with the reason, never skipped: a damaged or foreign
artifact next to a manifest must not pass as "unsigned".
"""

from __future__ import annotations

from datetime import datetime

from acr_reconcile.errors import RegistryError
from acr_reconcile.live.state import LiveNotationSignature, SignatureVerdict
from acr_reconcile.notation.envelope import MEDIA_TYPE_COSE
from acr_reconcile.notation.manifest import (
    MAX_MANIFEST_BYTES,
    SIGNATURE_ARTIFACT_TYPE,
    SignatureManifestError,
    check_blob,
    read_signature_manifest,
)
from acr_reconcile.notation.payload import Descriptor
from acr_reconcile.notation.verify import Verdict, VerificationPolicy, verify_envelope
from acr_reconcile.registry.client import RegistryClient
from acr_reconcile.registry.referrers import Referrer, referrers

_VERDICTS = {
    Verdict.SIGNED: SignatureVerdict.TRUSTED,
    Verdict.UNTRUSTED: SignatureVerdict.UNTRUSTED,
    Verdict.INVALID: SignatureVerdict.INVALID,
}
MAX_ENVELOPE_BYTES = 32 * 1024 * 1024  # notation-go's limit for an envelope blob


def _one(
    client: RegistryClient,
    repository: str,
    subject: Descriptor,
    found: Referrer,
    policy: VerificationPolicy,
    now: datetime,
    in_tag_schema: bool,
) -> LiveNotationSignature:
    def invalid(reason: str, fmt: str = "cose") -> LiveNotationSignature:
        return LiveNotationSignature(
            found.digest, fmt, SignatureVerdict.INVALID, reason=reason, in_tag_schema=in_tag_schema
        )

    if found.size > MAX_MANIFEST_BYTES:
        return invalid(f"the signature manifest is {found.size} bytes, over {MAX_MANIFEST_BYTES}")
    try:
        body, _ = client.manifest_body(repository, found.digest)
        layer = read_signature_manifest(body, subject)
    except SignatureManifestError as error:
        return invalid(f"signature manifest {found.digest}: {error}")
    fmt = "cose" if layer.media_type == MEDIA_TYPE_COSE else "jws"
    if layer.size > MAX_ENVELOPE_BYTES:
        return invalid(f"the envelope is {layer.size} bytes, over {MAX_ENVELOPE_BYTES}", fmt)
    blob = client.blob(repository, layer.digest)
    try:
        check_blob(blob, layer)
    except SignatureManifestError as error:
        return invalid(f"envelope of {found.digest}: {error}", fmt)
    result = verify_envelope(layer.media_type, blob, subject, policy, now)
    return LiveNotationSignature(
        digest=found.digest,
        signature_format=fmt,
        verdict=_VERDICTS[result.verdict],
        subject=result.signer,
        reason=None if result.verdict is Verdict.SIGNED else result.reason,
        expired=result.expired,
        in_tag_schema=in_tag_schema,
        thumbprints=layer.thumbprints,
    )


def read_signatures(
    client: RegistryClient,
    repository: str,
    subject: Descriptor,
    policy: VerificationPolicy,
    now: datetime,
) -> tuple[tuple[LiveNotationSignature, ...], bool]:
    """Every signature of ``subject`` judged under ``policy``, and whether the registry
    has the referrers API (False: they were found through the tag schema)."""
    listed = referrers(client, repository, subject.digest, SIGNATURE_ARTIFACT_TYPE)
    signatures: list[LiveNotationSignature] = []
    for found in listed.referrers:
        try:
            signatures.append(
                _one(client, repository, subject, found, policy, now, not listed.referrers_api)
            )
        except RegistryError as error:
            if error.status != 404:
                raise
            # listed but gone (deleted between the listing and the read): not a signature
    return tuple(signatures), listed.referrers_api
