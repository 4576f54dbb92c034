"""The few DER shapes the docker key files need, since ``cryptography`` cannot write
PBES2 with PBKDF2-HMAC-SHA1 nor read notary's EC PKCS#8 (version 1)."""

from __future__ import annotations

from dataclasses import dataclass

SEQUENCE = 0x30
INTEGER = 0x02
OCTET_STRING = 0x04
OID = 0x06


@dataclass(frozen=True)
class Tlv:
    tag: int
    value: bytes


def encode(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + _length(len(value)) + value


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def sequence(*items: bytes) -> bytes:
    return encode(SEQUENCE, b"".join(items))


def integer(n: int) -> bytes:
    raw = n.to_bytes(n.bit_length() // 8 + 1, "big", signed=True)
    return encode(INTEGER, raw)


def octets(value: bytes) -> bytes:
    return encode(OCTET_STRING, value)


def oid(dotted: str) -> bytes:
    nums = [int(p) for p in dotted.split(".")]
    body = bytes([40 * nums[0] + nums[1]])
    for n in nums[2:]:
        chunk = [n & 0x7F]
        n >>= 7
        while n:
            chunk.append(0x80 | (n & 0x7F))
            n >>= 7
        body += bytes(reversed(chunk))
    return encode(OID, body)


def decode_oid(value: bytes) -> str:
    nums = [value[0] // 40, value[0] % 40]
    n = 0
    for byte in value[1:]:
        n = (n << 7) | (byte & 0x7F)
        if not byte & 0x80:
            nums.append(n)
            n = 0
    return ".".join(str(x) for x in nums)


def read(data: bytes, pos: int = 0) -> tuple[Tlv, int]:
    """One TLV at ``pos``; returns it and the offset just past it."""
    if pos + 2 > len(data):
        raise ValueError("truncated DER")
    tag, first = data[pos], data[pos + 1]
    pos += 2
    if first & 0x80:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise ValueError("bad DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    else:
        length = first
    end = pos + length
    if end > len(data):
        raise ValueError("truncated DER")
    return Tlv(tag, data[pos:end]), end


def children(value: bytes) -> list[Tlv]:
    items: list[Tlv] = []
    pos = 0
    while pos < len(value):
        item, pos = read(value, pos)
        items.append(item)
    return items


def expect(item: Tlv, tag: int) -> bytes:
    if item.tag != tag:
        raise ValueError(f"DER tag {item.tag:#x} where {tag:#x} was expected")
    return item.value
