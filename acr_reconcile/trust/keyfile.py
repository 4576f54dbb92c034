"""Docker/notary private key files: PKCS#8 PBES2 (PBKDF2-HMAC-SHA1, AES-256-CBC) PEMs with
``role``/``gun`` headers.

Written by hand because notary only reads SHA-1 PBKDF2 (``cryptography`` writes SHA-256)
and writes EC keys with PKCS#8 version 1, which ``cryptography`` refuses to load.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from acr_reconcile.trust import der
from acr_reconcile.trust.crypto import SigningKey

PBES2 = "1.2.840.113549.1.5.13"
PBKDF2 = "1.2.840.113549.1.5.12"
AES256_CBC = "2.16.840.1.101.3.4.1.42"
EC_PUBLIC_KEY = "1.2.840.10045.2.1"
RSA_ENCRYPTION = "1.2.840.113549.1.1.1"
CURVE_OIDS = {"secp256r1": "1.2.840.10045.3.1.7", "secp384r1": "1.3.132.0.34"}
ITERATIONS = 2048
# Far above what docker, notary or OpenSSL write; a file asking for more would only stall us.
MAX_ITERATIONS = 1_000_000
ENCRYPTED = "ENCRYPTED PRIVATE KEY"


class KeyFileError(ValueError):
    """The file is not a key we can read, or the passphrase does not open it."""


@dataclass(frozen=True)
class PemBlock:
    kind: str
    headers: dict[str, str]
    body: bytes


def parse_pem(text: str) -> PemBlock:
    """The first PEM block, with its RFC 1421 headers (``role``, ``gun``)."""
    lines = [line.strip() for line in text.splitlines()]
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith("-----BEGIN "))
        kind = lines[start][len("-----BEGIN ") :].rstrip("-")
        end = lines.index(f"-----END {kind}-----", start)
    except (StopIteration, ValueError) as exc:
        raise KeyFileError("no PEM block") from exc
    headers: dict[str, str] = {}
    body_lines = lines[start + 1 : end]
    if any(": " in line for line in body_lines):
        split = body_lines.index("") if "" in body_lines else 0
        for line in body_lines[:split]:
            name, _, value = line.partition(": ")
            headers[name.strip()] = value.strip()
        body_lines = body_lines[split + 1 :]
    try:
        body = base64.b64decode("".join(body_lines), validate=True)
    except ValueError as exc:
        raise KeyFileError("PEM body is not base64") from exc
    return PemBlock(kind, headers, body)


def format_pem(kind: str, headers: dict[str, str], body: bytes) -> str:
    """As Go's ``pem.Encode`` writes it: sorted headers, a blank line, 64-column body."""
    out = [f"-----BEGIN {kind}-----"]
    out += [f"{name}: {headers[name]}" for name in sorted(headers)]
    if headers:
        out.append("")
    b64 = base64.b64encode(body).decode()
    out += [b64[i : i + 64] for i in range(0, len(b64), 64)]
    out.append(f"-----END {kind}-----")
    return "\n".join(out) + "\n"


def encrypt_key(key: SigningKey, passphrase: str, headers: dict[str, str]) -> str:
    salt, iv = os.urandom(8), os.urandom(16)
    plain = _pkcs8(key)
    pad = 16 - len(plain) % 16
    aes_key = hashlib.pbkdf2_hmac("sha1", passphrase.encode(), salt, ITERATIONS, 32)
    encryptor = Cipher(algorithms.AES(aes_key), modes.CBC(iv)).encryptor()
    sealed = encryptor.update(plain + bytes([pad]) * pad) + encryptor.finalize()
    kdf = der.sequence(der.oid(PBKDF2), der.sequence(der.octets(salt), der.integer(ITERATIONS)))
    scheme = der.sequence(der.oid(AES256_CBC), der.octets(iv))
    algorithm = der.sequence(der.oid(PBES2), der.sequence(kdf, scheme))
    return format_pem(ENCRYPTED, headers, der.sequence(algorithm, der.octets(sealed)))


def decrypt_key(block: PemBlock, passphrase: str | None) -> SigningKey:
    if block.kind == "PRIVATE KEY":
        return _from_pkcs8(block.body)
    if block.kind != ENCRYPTED:
        raise KeyFileError(f"unsupported PEM type {block.kind}")
    if passphrase is None:
        raise KeyFileError("the key is encrypted and no passphrase is set")
    try:
        salt, iterations, iv, sealed = _pbes2_fields(block.body)
    except (ValueError, IndexError) as exc:
        raise KeyFileError("not a PBES2/PBKDF2/AES-256-CBC key") from exc
    aes_key = hashlib.pbkdf2_hmac("sha1", passphrase.encode(), salt, iterations, 32)
    decryptor = Cipher(algorithms.AES(aes_key), modes.CBC(iv)).decryptor()
    plain = decryptor.update(sealed) + decryptor.finalize()
    try:
        return _from_pkcs8(plain)
    except KeyFileError as exc:
        raise KeyFileError("incorrect passphrase") from exc


def _pbes2_fields(body: bytes) -> tuple[bytes, int, bytes, bytes]:
    outer, _ = der.read(body)
    algorithm, data = der.children(der.expect(outer, der.SEQUENCE))
    alg_oid, params = der.children(der.expect(algorithm, der.SEQUENCE))
    kdf, scheme = der.children(der.expect(params, der.SEQUENCE))
    kdf_oid, kdf_params = der.children(kdf.value)
    salt, count = der.children(kdf_params.value)[:2]
    enc_oid, iv = der.children(scheme.value)
    found = [der.decode_oid(x.value) for x in (alg_oid, kdf_oid, enc_oid)]
    if found != [PBES2, PBKDF2, AES256_CBC]:
        raise ValueError("unsupported key encryption")
    iterations = int.from_bytes(der.expect(count, der.INTEGER), "big")
    if not 0 < iterations <= MAX_ITERATIONS:
        raise ValueError("PBKDF2 iteration count out of range")
    iv_bytes, sealed = der.expect(iv, der.OCTET_STRING), der.expect(data, der.OCTET_STRING)
    if len(iv_bytes) != 16 or not sealed or len(sealed) % 16:
        raise ValueError("AES-256-CBC needs a 16-byte IV and whole 16-byte blocks")
    return der.expect(salt, der.OCTET_STRING), iterations, iv_bytes, sealed


def _pkcs8(key: SigningKey) -> bytes:
    """Notary's PrivateKeyInfo: EC keys carry version 1 and the SEC1 key, like Go writes."""
    inner = key.private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    if isinstance(key.private, ec.EllipticCurvePrivateKey):
        curve = der.oid(CURVE_OIDS[key.private.curve.name])
        algorithm = der.sequence(der.oid(EC_PUBLIC_KEY), curve)
        return der.sequence(der.integer(1), algorithm, der.octets(inner))
    algorithm = der.sequence(der.oid(RSA_ENCRYPTION), der.encode(0x05, b""))
    return der.sequence(der.integer(0), algorithm, der.octets(inner))


def _from_pkcs8(plain: bytes) -> SigningKey:
    try:
        outer, _ = der.read(plain)
        _version, algorithm, private = der.children(der.expect(outer, der.SEQUENCE))
        alg_oid = der.decode_oid(der.children(algorithm.value)[0].value)
        inner = der.expect(private, der.OCTET_STRING)
    except (ValueError, IndexError) as exc:
        raise KeyFileError("not a PKCS#8 private key") from exc
    if alg_oid not in (EC_PUBLIC_KEY, RSA_ENCRYPTION):
        raise KeyFileError(f"unsupported private key algorithm {alg_oid}")
    try:
        loaded = serialization.load_der_private_key(inner, password=None)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise KeyFileError("not a readable private key") from exc
    if not isinstance(loaded, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise KeyFileError("unsupported private key type")
    return SigningKey(loaded)
