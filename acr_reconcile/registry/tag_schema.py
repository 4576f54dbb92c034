"""Keeping the ``sha256-<hex>`` referrers index of a manifest, where a registry has no
referrers API (on ACR: a registry encrypted with a customer-managed key).

The OCI distribution spec leaves the index to its clients: pull it (a 404 is an empty
index), add or remove one descriptor, push it back under the same tag. Two clients doing
that at once lose one's entry, and the spec makes that the clients' problem. So an update
here is GET-modify-PUT with the index's digest checked again right before the PUT, and is
confirmed by reading the index back: an entry that is not there (another writer's PUT
won) is merged in again, a bounded number of times, with jitter so racing writers fall
out of step. A writer's own entry can still be lost when another writer read the index
before this one's PUT and writes after its confirmation: the confirmation is read twice,
a moment apart, which closes that window in practice but not in theory (a registry with
the referrers API closes it for good; conditional PUTs are optional in the spec and not
relied on here).

The merge is pure (``merge_index``): descriptors are kept as the registry served them,
none is listed twice, and the index is written only when it changes.

Each write leaves the index it replaced untagged: one more manifest per signature, for
good. Once an update is confirmed, the indexes it replaced (and its own earlier PUTs that
another writer's replaced) are deleted, as notation's registry client (oras-go) deletes
its dangling referrers index; the index tagged now is kept. Deleting needs the registry's
delete right (AcrDelete, Contributor or Owner; AcrPush has none): where it is refused,
the index stays as it did before, the update's note says so, and this client does not ask
again in that repository. It never fails the update, whose entry is in place by then.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from acr_reconcile.errors import RegistryError
from acr_reconcile.notation.manifest import referrer_tag, sha256_digest
from acr_reconcile.registry.client import RegistryClient
from acr_reconcile.registry.referrers import INDEX_MEDIA_TYPE, MAX_INDEX_BYTES

ATTEMPTS = 8
CONFIRM_DELAY = 0.2  # seconds between the two confirming reads


class IndexError_(ValueError):
    """The tag holds something other than a referrers image index."""


def _entries(body: bytes | None) -> list[dict[str, Any]]:
    if body is None:
        return []
    try:
        index = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise IndexError_("the referrers tag does not hold JSON") from None
    if not isinstance(index, dict) or index.get("mediaType", INDEX_MEDIA_TYPE) != INDEX_MEDIA_TYPE:
        raise IndexError_("the referrers tag does not hold an OCI image index")
    manifests = index.get("manifests") or []
    if not isinstance(manifests, list) or not all(isinstance(m, dict) for m in manifests):
        raise IndexError_("the referrers index's manifests are not a list of descriptors")
    return manifests


def listed(body: bytes | None) -> set[str]:
    """The digests the index lists (an absent index lists none)."""
    return {str(m.get("digest")) for m in _entries(body)}


def merge_index(
    body: bytes | None, add: Mapping[str, Any] | None = None, remove: str | None = None
) -> bytes | None:
    """The index after adding descriptor ``add`` and removing digest ``remove``; None
    when it already says so (nothing to write). Other entries are kept as they were."""
    entries = _entries(body)
    kept = [e for e in entries if remove is None or e.get("digest") != remove]
    digests = {e.get("digest") for e in kept}
    if add is not None and add["digest"] not in digests:
        kept.append(dict(add))
    if body is not None and kept == entries:
        return None
    if body is None and not kept:
        return None  # removing from an index that does not exist
    index = {"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": kept}
    return json.dumps(index, separators=(",", ":")).encode()


@dataclass(frozen=True)
class _Read:
    body: bytes | None  # None: no index yet
    digest: str | None  # over the bytes read


def _read(client: RegistryClient, repository: str, tag: str) -> _Read:
    """The index as served (one GET; a 404 is no index yet)."""
    try:
        body, _ = client.manifest_body(repository, tag, limit=MAX_INDEX_BYTES)
    except RegistryError as error:
        if error.status == 404:
            return _Read(None, None)
        raise
    return _Read(body, sha256_digest(body))


def _done(body: bytes | None, add: Mapping[str, Any] | None, remove: str | None) -> bool:
    digests = listed(body)
    return (add is None or add["digest"] in digests) and (remove is None or remove not in digests)


def update_index(
    client: RegistryClient,
    repository: str,
    subject_digest: str,
    *,
    add: Mapping[str, Any] | None = None,
    remove: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Add ``add`` to / remove ``remove`` from the referrers index of ``subject_digest``;
    what was done, for the run's note. Raises when it does not hold after ``ATTEMPTS``."""
    tag = referrer_tag(subject_digest)
    where = f"{client.login_server}/{repository}:{tag}"
    replaced: list[str] = []  # indexes this update's PUTs replaced, and its own PUTs
    wrote = False
    for attempt in range(ATTEMPTS):
        if attempt:
            sleep(random.uniform(0.05, 0.3) * attempt)  # jitter, not secrecy
        current = _read(client, repository, tag)
        try:
            updated = merge_index(current.body, add, remove)
        except IndexError_ as error:
            raise RegistryError(f"{where}: {error}; nothing was written to it") from None
        if updated is not None:
            # the index must be the one merged: another writer may have pushed meanwhile
            again = client.manifest(repository, tag)
            if (again.digest if again else None) != current.digest:
                continue
            client.put_manifest(repository, tag, updated, INDEX_MEDIA_TYPE)
            wrote = True
            if current.digest is not None:
                replaced.append(current.digest)
            # untagged too if another writer's PUT wins; kept below if it is the one tagged
            replaced.append(sha256_digest(updated))
        tagged = _confirmed(client, repository, tag, add, remove, sleep)
        if tagged is not None:
            done = "updated the referrers index" if wrote else "the referrers index already said so"
            return done + _delete_replaced(client, repository, replaced, tagged.digest)
    raise RegistryError(
        f"{where}: the referrers index kept changing under concurrent writers "
        f"({ATTEMPTS} attempts); run apply again",
        transient=True,
    )


REFUSED = (401, 403, 405)  # no delete right, or a registry that allows no deletes


def _delete_replaced(
    client: RegistryClient, repository: str, replaced: list[str], tagged: str | None
) -> str:
    """Delete the indexes this update replaced (not the one tagged now); the note's tail."""
    deleted = 0
    for digest in dict.fromkeys(replaced):
        if digest == tagged:
            continue
        if repository in client.deletes_refused:
            return f"; the replaced index {digest} stays (deleting is refused here)"
        try:
            if client.delete_manifest(repository, digest):
                deleted += 1
        except RegistryError as error:
            if error.status in REFUSED:
                client.deletes_refused.add(repository)
            why = f"HTTP {error.status}" if error.status else "the registry could not be reached"
            return f"; the replaced index {digest} stays (deleting it failed: {why})"
    return f"; deleted {deleted} replaced index(es)" if deleted else ""


def _confirmed(
    client: RegistryClient,
    repository: str,
    tag: str,
    add: Mapping[str, Any] | None,
    remove: str | None,
    sleep: Callable[[float], None],
) -> _Read | None:
    """Read back twice, a moment apart: a writer that read before our PUT and wrote just
    after it is seen by the second read. The second read when both say so, else None."""
    if not _done(_read(client, repository, tag).body, add, remove):
        return None
    sleep(CONFIRM_DELAY)
    last = _read(client, repository, tag)
    return last if _done(last.body, add, remove) else None
