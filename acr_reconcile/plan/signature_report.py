"""What ``acr-reconcile verify`` says: each tag's Notary Project signatures as judged
under its document's trust policy, and, in a migration from DCT, every digest it carries.

Pure, like the planner: a function of the documents and the live state read for them
(the reader verified each signature envelope; here each becomes a line). A tag the
document signs without a trusted signature, or a carried digest without one, fails the
verification; an unsigned tag the document leaves unsigned is reported, never a failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from acr_reconcile.live.dct import dct_inventory
from acr_reconcile.live.state import LiveNotationSignature, LiveRegistryData, LiveState
from acr_reconcile.live.state import SignatureVerdict as V
from acr_reconcile.spec.document import SpecDocument


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    failures: int = 0
    checked: int = 0

    def fail(self, line: str) -> None:
        self.failures += 1
        self.lines.append(f"  FAIL {line}")

    def ok(self, line: str) -> None:
        self.lines.append(f"  ok   {line}")

    def note(self, line: str) -> None:
        self.lines.append(f"  --   {line}")


def _short(digest: str | None) -> str:
    return f"{digest[:19]}…" if digest else "?"


def _trusted(signatures: Sequence[LiveNotationSignature]) -> LiveNotationSignature | None:
    return next((s for s in signatures if s.verdict is V.TRUSTED), None)


def _others(signatures: Sequence[LiveNotationSignature]) -> str:
    found = [f"{s.verdict.value}: {s.reason or 'no reason given'}" for s in signatures]
    return f" ({'; '.join(found)})" if found else ""


def _tags(doc: SpecDocument, data: LiveRegistryData, report: Report) -> None:
    for image in doc.spec.images:
        for tag in image.tags:
            name = f"{image.repository}:{tag}"
            live = data.tags.get((image.repository, tag))
            if live is None or live.digest is None:
                (report.fail if image.sign else report.note)(f"{name}: not in the registry")
                continue
            report.checked += 1
            trusted = _trusted(live.signatures)
            where = f"{name} ({_short(live.digest)})"
            if trusted is not None:
                line = (
                    f"{where}: signed, verified ({trusted.signature_format}, "
                    f"{trusted.subject or 'unknown signer'}, signature {_short(trusted.digest)})"
                )
                if image.sign:
                    report.ok(line)
                else:
                    report.fail(line + " although the document says sign: false")
            elif image.sign:
                report.fail(f"{where}: no trusted Notation signature{_others(live.signatures)}")
            else:
                report.note(
                    f"{where}: unsigned, as the document says (sign: false)"
                    + _others(live.signatures)
                )


def _carried(data: LiveRegistryData, report: Report) -> None:
    """Every digest a migration carries, listed in the document or not."""
    if data.dct is not None:
        digests = dct_inventory(data.dct).digests()
        source = "the registry's DCT trust data"
    elif data.dct_file is not None:
        digests = data.dct_file.inventory.digests()
        source = data.dct_file.path
    else:
        return
    report.lines.append(f"  carried over from Docker Content Trust ({source}):")
    for (repository, digest), tags in sorted(digests.items()):
        where = f"{repository}@{_short(digest)} (tags {', '.join(tags)})"
        if (repository, digest) not in data.carried:
            report.fail(f"{where}: the manifest is not in the registry any more")
            continue
        report.checked += 1
        signatures = data.carried[(repository, digest)]
        trusted = _trusted(signatures)
        if trusted is None:
            report.fail(f"{where}: no trusted Notation signature{_others(signatures)}")
        else:
            report.ok(f"{where}: verified ({trusted.subject or 'unknown signer'})")


def signature_report(documents: Sequence[SpecDocument], live: LiveState) -> Report:
    report = Report()
    for doc in documents:
        spec = doc.spec
        key = (spec.subscription_id.lower(), spec.registry.name.lower())
        data = live.registries.get(key)
        report.lines.append(f"{spec.registry.name} ({doc.location('')})")
        if data is None:
            report.fail("the registry does not exist")
            continue
        report.lines.append(f"  content trust (DCT): {data.registry.trust_status}")
        if spec.notation is None:
            report.note("no notation block: no Notary Project signatures to verify")
            continue
        if not data.notation_read:
            why = data.notation_problem or "the document's trust policy could not be built"
            report.fail(f"Notary Project signatures not read: {why}")
            continue
        _tags(doc, data, report)
        _carried(data, report)
    return report
