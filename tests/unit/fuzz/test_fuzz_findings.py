"""What fuzzing found, kept as examples: each input once escaped the parsers as an
exception other than a clean error, or was accepted where notary refuses it (a boolean
version, a delegation name that is no path under ``targets/``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from acr_reconcile.errors import SpecError, TrustDataInvalid
from acr_reconcile.spec.loader import load_text
from acr_reconcile.trust.cache import TrustCache
from tests.fuzz.harness_trust import TrustTarget, pbes2_key_file, refusal
from tests.fuzz.mutations import deep
from tests.fuzz.world import GUN, world

EXAMPLE = Path(__file__).parents[3] / "examples" / "hello-world.yaml"


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> TrustTarget:
    return TrustTarget(tmp_path_factory.mktemp("findings"))


@pytest.mark.parametrize(
    ("role", "place", "value"),
    [
        ("root", ("version",), float("inf")),  # was OverflowError
        ("snapshot", ("expires",), "0001-01-01T00:00:00+01:00"),  # was OverflowError
        ("targets", ("delegations", "roles", 0, "paths"), [1]),  # was TypeError on use
        ("targets", ("targets", "v1", "custom"), "\ud800"),  # was UnicodeEncodeError
        ("targets", ("targets", "v1", "custom"), deep(600)),  # was RecursionError
        ("targets", ("delegations", "roles", 0, "name"), "targets/../../escape"),
        ("targets", ("delegations", "roles", 0, "name"), "targets/a\u0000b"),
        ("timestamp", ("version",), True),  # Go refuses a boolean version
    ],
)
def test_signed_metadata_of_the_wrong_shape_is_invalid(
    target: TrustTarget, role: str, place: tuple[Any, ...], value: Any
) -> None:
    outcome = target.resigned(role, 0, value, place=place)
    assert isinstance(outcome, TrustDataInvalid), outcome


def test_an_unreadable_root_certificate_is_invalid(target: TrustTarget) -> None:
    """A second root key whose "certificate" is not one: was a ValueError on the check."""
    garbage = {"keytype": "ecdsa-x509", "keyval": {"private": None, "public": "bm9wZQ=="}}

    def add_key(role: str, signed: dict[str, Any]) -> dict[str, Any]:
        if role == "root":
            signed["keys"]["bogus"] = garbage
            signed["roles"]["root"]["keyids"].append("bogus")
        return signed

    outcome = target.read(world().files(add_key), {})
    assert isinstance(outcome, TrustDataInvalid), outcome


@pytest.mark.parametrize("raw", [b"[" * 5000, b'{"signed":' * 2000])
def test_json_nested_beyond_the_stack(target: TrustTarget, raw: bytes, tmp_path: Path) -> None:
    assert isinstance(target.read(world().files(replace={"timestamp": raw}), {}), TrustDataInvalid)
    cache = TrustCache(tmp_path, GUN)
    cache.save("targets", raw)
    assert cache.version("targets") is None


@pytest.mark.parametrize(
    ("iterations", "iv", "sealed"),
    [
        (0, bytes(16), bytes(32)),  # was ValueError from PBKDF2
        (2**40, bytes(16), bytes(32)),  # was an hours-long PBKDF2 (or OverflowError)
        (2048, bytes(3), bytes(32)),  # was ValueError: invalid IV size
        (2048, bytes(16), bytes(15)),  # was ValueError: not whole blocks
    ],
)
def test_key_files_with_impossible_parameters_are_refused(
    target: TrustTarget, iterations: int, iv: bytes, sealed: bytes
) -> None:
    assert target.key_file(pbes2_key_file(iterations, iv, sealed)) == 0


@pytest.mark.parametrize(
    ("path", "written", "kind"),
    [
        ("registry.adminUserEnabled", "!!bool maybe", "bool"),
        ("resourceGroup.location", "!!int ''", "int"),
        ("registry.sku", "!!timestamp soon", "timestamp"),
        ("registry.contentTrust", "!!float ''", "float"),
    ],
)
def test_explicit_tags_on_text_they_cannot_hold(path: str, written: str, kind: str) -> None:
    """Were KeyError, IndexError and AttributeError from PyYAML's constructors."""
    field = path.rpartition(".")[2]
    lines = EXAMPLE.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith(f"{field}:"))
    lines[at] = lines[at].partition(":")[0] + ": " + written
    with pytest.raises(SpecError) as raised:
        load_text("\n".join(lines), "hello.yaml")
    issue = next(i for i in raised.value.issues if f"cannot read this {kind}" in i.message)
    assert (issue.line, issue.path) == (at + 1, path)


def test_an_error_body_nested_beyond_the_stack_is_a_refusal() -> None:
    """Was a RecursionError out of the error-body parsing of the trust server client."""
    refusal(400, b"[" * 5000)
