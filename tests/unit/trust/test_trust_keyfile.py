"""Key files must be readable by the notary CLI (PBKDF2-HMAC-SHA1, AES-256-CBC, EC PKCS#8
version 1) and we must read what it writes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from acr_reconcile.trust import der
from acr_reconcile.trust.crypto import SigningKey
from acr_reconcile.trust.keyfile import (
    KeyFileError,
    decrypt_key,
    encrypt_key,
    format_pem,
    parse_pem,
)

PRIVATE = Path(__file__).parent / "fixtures" / "trust" / "private"
CLI_KEY_ID = "c2c6d1c725a0d2e9b82a757173a5c6f8bf386485faf32dc75d877769aae5bd1b"
CLI_PASSPHRASE = "tgtpw"  # the throwaway passphrase the notary CLI wrote this test key with


def test_reads_a_key_the_notary_cli_wrote() -> None:
    block = parse_pem((PRIVATE / f"{CLI_KEY_ID}.key").read_text())
    assert block.headers == {"gun": "example.com/app", "role": "targets"}
    assert decrypt_key(block, CLI_PASSPHRASE).key_id == CLI_KEY_ID


def test_wrong_or_missing_passphrase_is_refused() -> None:
    block = parse_pem((PRIVATE / f"{CLI_KEY_ID}.key").read_text())
    with pytest.raises(KeyFileError, match="incorrect passphrase"):
        decrypt_key(block, "not it")
    with pytest.raises(KeyFileError, match="no passphrase"):
        decrypt_key(block, None)


def test_written_key_uses_notarys_exact_encryption() -> None:
    key = SigningKey.generate()
    block = parse_pem(encrypt_key(key, "pw", {"role": "targets", "gun": "r.test/app"}))
    outer, _ = der.read(block.body)
    algorithm, sealed = der.children(outer.value)
    pbes2_oid, params = der.children(algorithm.value)
    kdf, scheme = der.children(params.value)
    kdf_oid, kdf_params = der.children(kdf.value)
    salt, count, *prf = der.children(kdf_params.value)
    aes_oid, iv = der.children(scheme.value)
    assert [der.decode_oid(o.value) for o in (pbes2_oid, kdf_oid, aes_oid)] == [
        "1.2.840.113549.1.5.13",
        "1.2.840.113549.1.5.12",
        "2.16.840.1.101.3.4.1.42",
    ]
    assert prf == []  # no PRF field: notary always assumes HMAC-SHA1
    assert (len(salt.value), int.from_bytes(count.value, "big"), len(iv.value)) == (8, 2048, 16)
    aes_key = hashlib.pbkdf2_hmac("sha1", b"pw", salt.value, 2048, 32)
    plain = Cipher(algorithms.AES(aes_key), modes.CBC(iv.value)).decryptor().update(sealed.value)
    inner, _ = der.read(plain)
    version = der.children(inner.value)[0]
    assert version.value == b"\x01"  # EC keys: PKCS#8 version 1, as Go's notary writes


def test_round_trip_keeps_key_and_headers() -> None:
    key = SigningKey.generate()
    text = encrypt_key(key, "secret", {"role": "root"})
    block = parse_pem(text)
    assert block.headers == {"role": "root"}
    assert decrypt_key(block, "secret").key_id == key.key_id
    assert "secret" not in text


def test_pem_layout_matches_go() -> None:
    text = format_pem("X", {"role": "r", "gun": "g"}, bytes(100))
    lines = text.splitlines()
    assert lines[:4] == ["-----BEGIN X-----", "gun: g", "role: r", ""]
    assert [len(line) for line in lines[4:-1]] == [64, 64, 8]  # 100 bytes = 136 base64 chars
    assert lines[-1] == "-----END X-----"
