"""Seed inputs. Committed seeds (``tests/fuzz/corpus/<target>/``) come from the examples,
the malformed-spec test corpus and world-independent trust mutations; seeds that hold keys
or signatures are made in the fuzzing process itself, since they are only valid with the
keys of that process (and private keys never go into the repository)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tests.fuzz.mutations import YAML_SNIPPETS
from tests.fuzz.world import ROLES

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent.parent
CORPUS = ROOT / "corpus"
TARGETS = ("spec", "trust")
_JSON_PAYLOADS = (b"", b"null", b"1e400", b"[]", b'"\\ud800"')
MAX_SEED = 8192  # libFuzzer's -max_len for specs; larger files only test the size limit


def spec_seeds() -> list[bytes]:
    files = sorted(REPO.glob("examples/*.yaml")) + sorted(REPO.glob("tests/unit/spec/bad/*.y*ml"))
    return [path.read_bytes() for path in files if path.stat().st_size <= MAX_SEED]


def trust_seeds() -> list[bytes]:
    """Re-signed mutations (mode 1): role, a place selector, a JSON payload; and error
    bodies of the trust server (mode 5)."""
    error = {"errors": [{"code": "VERSION", "message": "m", "detail": {"Error": {"Msg": "x"}}}]}
    seeds = [bytes([5, 0, 0, 9]) + body for body in (json.dumps(error).encode(), b"[" * 2000)]
    for role in range(len(ROLES)):
        for selector in (0, 5, 0x4003, 0x8004):
            for payload in _JSON_PAYLOADS:
                seeds.append(bytes([1, role]) + selector.to_bytes(2, "big") + payload)
    return seeds


def seeds(target: str) -> list[bytes]:
    return spec_seeds() if target == "spec" else trust_seeds()


def write_seeds(directory: Path, inputs: list[bytes]) -> None:
    """Files named by content hash, as libFuzzer names its own."""
    directory.mkdir(parents=True, exist_ok=True)
    for data in inputs:
        (directory / hashlib.sha1(data).hexdigest()).write_bytes(data)


def write_corpus() -> None:
    """Regenerate the committed seed corpus and the dictionaries."""
    for target in TARGETS:
        directory = CORPUS / target
        for old in directory.glob("*"):
            old.unlink()
        write_seeds(directory, seeds(target))
    (CORPUS / "spec.dict").write_text(_dictionary(YAML_SNIPPETS))
    (CORPUS / "trust.dict").write_text(_dictionary(_TRUST_TOKENS))


_TRUST_TOKENS = (
    '"signed"',
    '"signatures"',
    '"_type"',
    '"Root"',
    '"Targets"',
    '"Snapshot"',
    '"Timestamp"',
    '"version"',
    '"expires"',
    '"keys"',
    '"roles"',
    '"keyids"',
    '"threshold"',
    '"delegations"',
    '"paths"',
    '"hashes"',
    '"length"',
    '"sha256"',
    '"meta"',
    '"keytype"',
    '"keyval"',
    '"ecdsa-x509"',
    '"method"',
    '"targets/releases"',
    "-----BEGIN ENCRYPTED PRIVATE KEY-----",
    "-----END ENCRYPTED PRIVATE KEY-----",
    "role: targets",
)


def _dictionary(tokens: tuple[str, ...]) -> str:
    """libFuzzer's dictionary format: one quoted, escaped token a line."""
    lines = []
    for token in tokens:
        escaped = "".join(
            c if 0x20 <= ord(c) < 0x7F and c not in '"\\' else _escape(c) for c in token
        )
        lines.append(f'"{escaped}"')
    return "\n".join(lines) + "\n"


def _escape(character: str) -> str:
    return "".join(f"\\x{b:02x}" for b in character.encode("utf-8", "surrogatepass"))
