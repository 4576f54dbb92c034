"""Saved plans: ``plan --out FILE`` writes one, ``apply FILE`` carries out exactly that plan.

A plan file holds the plan, the fingerprints and observed properties of every live read
it used (so apply can refuse a stale plan with a per-object explanation), the spec
documents it was made from (so apply re-reads the same objects without the spec files),
a digest of those documents, the tool version and the creation time. It holds no secrets:
the plan never carries any. Anything unreadable, foreign or from a newer format is a
clean ConfigError, never a traceback, since a wrong file must not drive writes to Azure.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from acr_reconcile import __version__
from acr_reconcile.errors import ConfigError
from acr_reconcile.files import write_private_atomic
from acr_reconcile.plan.codec import ParamsError, plan_from_dict, plan_to_dict
from acr_reconcile.plan.model import Plan
from acr_reconcile.spec.document import Location, SpecDocument
from acr_reconcile.spec.models import RegistryTrustSpec

FILE_KIND = "acr-reconcile-plan"
FILE_VERSION = 1  # bump when an older reader could misread a newer file


@dataclass(frozen=True)
class SavedPlan:
    plan: Plan
    documents: list[SpecDocument]
    documents_digest: str
    tool_version: str
    created_at: str  # ISO 8601, UTC
    meta: dict[str, Any] = field(default_factory=dict)


def _document_dump(doc: SpecDocument) -> dict[str, Any]:
    return {
        "file": doc.file,
        "index": doc.index,
        "spec": doc.spec.model_dump(mode="json", by_alias=True, exclude_unset=True),
        "locations": {p: [loc.line, loc.column] for p, loc in sorted(doc.locations.items())},
    }


def documents_digest(documents: Sequence[SpecDocument]) -> str:
    """A digest of the desired state the plan was made from (content, not file times)."""
    dumps = [doc.spec.desired_dump() for doc in documents]
    canonical = json.dumps(dumps, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def write_plan(
    path: str | Path,
    plan: Plan,
    documents: Sequence[SpecDocument],
    *,
    digest: str | None = None,
    meta: Mapping[str, Any] | None = None,
) -> None:
    """Write the plan file atomically (0600: it names the estate, though it holds no secrets)."""
    data = {
        "kind": FILE_KIND,
        "version": FILE_VERSION,
        "tool_version": __version__,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "documents_digest": digest or documents_digest(documents),
        "content_digest": documents_digest(documents),
        "meta": dict(meta or {}),
        "documents": [_document_dump(doc) for doc in documents],
        "plan": plan_to_dict(plan, observed=True),
    }
    target = Path(path)
    try:
        text = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
    except TypeError as error:
        raise ConfigError(f"{target}: plan metadata is not JSON data: {error}") from None
    write_private_atomic(target, text.encode("utf-8"), "the plan file")


def _load_json(target: Path) -> Any:
    try:
        return json.loads(target.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{target}: cannot read the plan file: {error.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ConfigError(f"{target}: not a plan file (not JSON); run plan --out again") from None


def _check_header(target: Path, data: Any) -> None:
    if not isinstance(data, dict) or data.get("kind") != FILE_KIND:
        raise ConfigError(f"{target}: not an acr-reconcile plan file")
    version = data.get("version")
    if not isinstance(version, int) or version < 1:
        raise ConfigError(f"{target}: plan file has no valid format version")
    if version > FILE_VERSION:
        raise ConfigError(
            f"{target}: plan file format {version} is newer than this tool reads "
            f"({FILE_VERSION}); use the acr-reconcile version that wrote it "
            f"({data.get('tool_version', 'unknown')}) or plan again"
        )


def _document_from(data: dict[str, Any]) -> SpecDocument:
    file = str(data["file"])
    locations = {
        str(p): Location(file, int(lc[0]), int(lc[1])) for p, lc in data["locations"].items()
    }
    spec = RegistryTrustSpec.model_validate(data["spec"])
    return SpecDocument(spec=spec, file=file, index=int(data["index"]), locations=locations)


def read_plan(path: str | Path) -> SavedPlan:
    """Read and check a plan file; every problem is a ConfigError naming the file."""
    target = Path(path)
    data = _load_json(target)
    _check_header(target, data)
    try:
        documents = [_document_from(d) for d in data["documents"]]
        saved = SavedPlan(
            plan=plan_from_dict(data["plan"]),
            documents=documents,
            documents_digest=str(data["documents_digest"]),
            tool_version=str(data["tool_version"]),
            created_at=str(data["created_at"]),
            meta=dict(data.get("meta", {})),
        )
    except ParamsError as error:
        raise ConfigError(
            f"{target}: this plan file (written by acr-reconcile "
            f"{data.get('tool_version', 'unknown')}) has change parameters this version does "
            f"not read: {error}; nothing was applied, run plan again"
        ) from None
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        # pydantic's ValidationError is a ValueError; its text names fields, never secrets
        kind = type(error).__name__
        raise ConfigError(f"{target}: plan file is damaged ({kind}: {error}); plan again") from None
    if documents_digest(documents) != data.get("content_digest"):
        raise ConfigError(f"{target}: plan file is damaged (documents digest mismatch); plan again")
    return saved


def is_plan_file(path: str | Path) -> bool:
    """True when ``path`` looks like a plan file (a JSON object of our kind), else False."""
    target = Path(path)
    try:
        with target.open("rb") as handle:
            head = handle.read(256)
    except OSError:
        return False
    return head.lstrip().startswith(b"{") and f'"kind": "{FILE_KIND}"'.encode() in head


def refuse_plan_files(paths: Sequence[str], command: str) -> None:
    """A saved plan among spec paths is a mistake with a known fix; say it plainly instead
    of reporting the plan's JSON as a broken spec."""
    for path in paths:
        if not is_plan_file(path):
            continue
        if command == "plan":
            fix = f"show it with `acr-reconcile show {path}`, or apply it with `apply {path}`"
        else:
            fix = f"apply it alone (`acr-reconcile apply {path}`), without spec files"
        raise ConfigError(f"{path}: this is a saved plan, not a spec; {fix}")
