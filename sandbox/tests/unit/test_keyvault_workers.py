"""The vaults' private-key work pool: RSA work leaves the event loop's thread (so the loop
answers other requests meanwhile), EC work stays inline, nothing starts before it is
needed, errors are the ones an inline call raises, and a stopped pool comes back."""

from __future__ import annotations

import asyncio
import hashlib
import threading

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from acr_sandbox.keyvault import crypto
from acr_sandbox.keyvault.workers import KeyWorkers, pool_size

DIGEST = hashlib.sha256(b"payload").digest()


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _on_thread(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the threads ``crypto.sign`` and ``crypto.generate`` ran on."""
    seen: list[str] = []
    sign, generate = crypto.sign, crypto.generate

    def spy_sign(key: crypto.PrivateKey, alg: str, digest: bytes) -> bytes:
        seen.append(threading.current_thread().name)
        return sign(key, alg, digest)

    def spy_generate(kty: str, size: int | None, curve: str | None) -> crypto.PrivateKey:
        seen.append(threading.current_thread().name)
        return generate(kty, size, curve)

    monkeypatch.setattr(crypto, "sign", spy_sign)
    monkeypatch.setattr(crypto, "generate", spy_generate)
    return seen


def test_rsa_signs_on_a_worker_and_verifies(
    rsa_key: rsa.RSAPrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _on_thread(monkeypatch)
    workers = KeyWorkers()

    async def main() -> bytes:
        return await workers.sign(rsa_key, "PS256", DIGEST)

    try:
        signature = asyncio.run(main())
    finally:
        workers.shutdown()
    assert seen and seen[0].startswith("keyvault-crypto")
    assert crypto.verify(rsa_key.public_key(), "PS256", DIGEST, signature)


def test_ec_work_stays_inline_and_starts_no_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _on_thread(monkeypatch)
    workers = KeyWorkers()
    key = ec.generate_private_key(ec.SECP256R1())

    async def main() -> tuple[crypto.PrivateKey, bytes]:
        made = await workers.generate("EC", None, "P-256")
        return made, await workers.sign(key, "ES256", DIGEST)

    made, signature = asyncio.run(main())
    assert isinstance(made, ec.EllipticCurvePrivateKey)
    assert crypto.verify(key.public_key(), "ES256", DIGEST, signature)
    assert seen == [threading.current_thread().name] * 2
    assert not workers.started


def test_the_loop_runs_while_an_rsa_key_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    """Another coroutine gets the loop before the RSA key generation ends: the work does
    not hold the loop's thread (with the work inline, the tick would come only after)."""
    workers = KeyWorkers()
    order: list[str] = []

    async def tick() -> None:
        await asyncio.sleep(0)
        order.append("tick")

    async def make() -> None:
        await workers.generate("RSA", 4096, None)
        order.append("key")

    async def main() -> None:
        await asyncio.gather(make(), tick())

    try:
        asyncio.run(main())
    finally:
        workers.shutdown()
    assert order == ["tick", "key"]


def test_errors_are_those_of_the_inline_call(rsa_key: rsa.RSAPrivateKey) -> None:
    workers = KeyWorkers()

    async def main() -> None:
        with pytest.raises(crypto.CryptoError, match="Invalid length of the digest"):
            await workers.sign(rsa_key, "PS256", b"short")
        with pytest.raises(crypto.CryptoError, match="does not apply to this key type"):
            await workers.sign(rsa_key, "ES256", DIGEST)
        with pytest.raises(crypto.CryptoError, match="key size 1024"):
            await workers.generate("RSA", 1024, None)

    try:
        asyncio.run(main())
    finally:
        workers.shutdown()


def test_a_stopped_pool_starts_again_on_use(rsa_key: rsa.RSAPrivateKey) -> None:
    workers = KeyWorkers(workers=1)

    async def sign() -> bytes:
        return await workers.sign(rsa_key, "RS256", DIGEST)

    asyncio.run(sign())
    assert workers.started
    workers.shutdown()
    assert not workers.started
    assert crypto.verify(rsa_key.public_key(), "RS256", DIGEST, asyncio.run(sign()))
    workers.shutdown()


def test_the_pool_is_bounded_by_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 64)
    assert pool_size() == 4
    monkeypatch.setattr("os.cpu_count", lambda: None)
    assert pool_size() == 1
