"""Trust data from a hostile server, a tampered cache and damaged key files ends in verified
data or a clean error (TrustDataInvalid, SigningKeyError, ...); never another exception.

Mutations of a ``signed`` part are signed again with the repository's own keys and the
parents re-hashed, so they reach the parsers and the consumers behind every check.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acr_reconcile.errors import AcrReconcileError
from acr_reconcile.trust.keyfile import MAX_ITERATIONS, format_pem, parse_pem
from acr_reconcile.trust.reader import TrustedRepo
from tests.fuzz.harness_trust import TrustTarget, pbes2_key_file, refusal, runtime_seeds
from tests.fuzz.mutations import WRONG_VALUES, deep
from tests.fuzz.world import ROLES, world

BOUNDED = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
values = st.one_of(st.sampled_from(WRONG_VALUES), json_values, st.integers(30, 80).map(deep))
roles = st.sampled_from(ROLES)


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> TrustTarget:
    return TrustTarget(tmp_path_factory.mktemp("trust-fuzz"))


def test_the_unmutated_repository_verifies(target: TrustTarget) -> None:
    """Otherwise every mutation would stop at the first check and prove nothing."""
    repo = target.read(world().files(), {})
    assert isinstance(repo, TrustedRepo)
    assert set(repo.targets) == {"targets", "targets/releases"}
    assert isinstance(target.read(world().files(), world().files()), TrustedRepo)


@settings(BOUNDED, max_examples=100)
@given(roles, st.integers(0, 500), values, st.booleans(), st.booleans())
def test_resigned_value_anywhere(
    target: TrustTarget, role: str, choice: int, value: Any, delete: bool, pin: bool
) -> None:
    target.resigned(role, choice, value, delete=delete, pinned=world().files() if pin else {})


@BOUNDED
@given(roles, st.data())
def test_served_bytes_mutated(target: TrustTarget, role: str, data: st.DataObject) -> None:
    raw = bytearray(world().files()[role])
    at = data.draw(st.integers(0, len(raw) - 1))
    how = data.draw(st.sampled_from(["flip", "cut", "insert"]))
    if how == "flip":
        raw[at] ^= 1 << data.draw(st.integers(0, 7))
    elif how == "cut":
        raw = raw[:at]
    else:
        raw[at:at] = data.draw(st.sampled_from([b"[", b"{", b"\\ud800", b"1e999", b"\xff", b","]))
    target.read(world().files(replace={role: bytes(raw)}), {})


@BOUNDED
@given(roles, st.binary(max_size=64) | st.sampled_from([b"[" * 5000, b'{"signed":' * 900]))
def test_tampered_cache(target: TrustTarget, role: str, raw: bytes) -> None:
    outcome = target.read(world().files(), {role: raw})
    assert outcome is None or isinstance(outcome, TrustedRepo | AcrReconcileError)


@pytest.fixture(scope="module")
def key_texts() -> list[str]:
    return [seed[4:].decode() for seed in runtime_seeds() if seed[0] == 3]


def test_valid_key_files_open(target: TrustTarget, key_texts: list[str]) -> None:
    assert key_texts
    assert all(target.key_file(text.encode()) > 0 for text in key_texts)


@BOUNDED
@given(st.data())
def test_damaged_key_files(target: TrustTarget, key_texts: list[str], data: st.DataObject) -> None:
    """Damage inside the DER (lengths, OIDs, iteration count, IV, ciphertext), where a
    text-level mutation seldom reaches, and in the PEM text itself."""
    block = parse_pem(data.draw(st.sampled_from(key_texts)))
    body = bytearray(block.body)
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(body) - 1))
        body[at] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        body = body[: data.draw(st.integers(0, len(body)))]
    text = format_pem(block.kind, block.headers, bytes(body))
    if data.draw(st.booleans()):
        at = data.draw(st.integers(0, len(text)))
        text = text[:at] + data.draw(st.text(max_size=5)) + text[at:]
    target.key_file(text.encode("utf-8", "surrogatepass"))


def test_shapes_of_json_no_parser_expects(target: TrustTarget) -> None:
    """Whole files that are JSON but not metadata, for every role."""
    for raw in (b"null", b"[]", b'"x"', b"1e999", b'{"signed":[],"signatures":{}}'):
        for role in ROLES:
            outcome = target.read(world().files(replace={role: raw}), {})
            assert isinstance(outcome, AcrReconcileError), (role, raw)


@BOUNDED
@given(
    st.sampled_from([0, 1, MAX_ITERATIONS + 1, 2**32, 2**40]) | st.integers(0, 4096),
    st.binary(max_size=20),
    st.binary(max_size=40),
    st.binary(max_size=10),
)
def test_any_pbes2_parameters(
    target: TrustTarget, iterations: int, iv: bytes, sealed: bytes, salt: bytes
) -> None:
    """Iteration count, IV and ciphertext as a key file may state them: refused, never a
    crash nor a stall (nothing here decrypts to a key)."""
    assert target.key_file(pbes2_key_file(iterations, iv, sealed, salt)) == 0


@BOUNDED
@given(
    st.integers(400, 599),
    st.binary(max_size=40)
    | json_values.map(lambda v: json.dumps({"errors": [v]}).encode())
    | st.integers(10, 3000).map(lambda n: b'{"errors":' + b"[" * n),
)
def test_error_bodies_of_the_trust_server(status: int, body: bytes) -> None:
    refusal(status, body)
