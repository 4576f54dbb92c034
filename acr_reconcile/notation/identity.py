"""X.509 distinguished names as the Notary Project trust policy compares them.

A trusted identity is ``x509.subject: C=US, ST=WA, O=Contoso``: a set of attributes that
must all appear, with equal values, in the signing certificate's subject. Notation
refuses an identity without C, ST and O, because anything shorter would trust whole
countries of certificates; the same rule applies here so a spec that ``validate``
accepts is a policy ``notation`` accepts.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509
from cryptography.x509.oid import NameOID

IDENTITY_PREFIX = "x509.subject:"
WILDCARD = "*"
REQUIRED_ATTRIBUTES = ("C", "ST", "O")
# Spellings a DN may use for the same attribute (LDAP allows S for stateOrProvinceName).
_ALIASES = {"S": "ST"}
_SHORT_NAMES = {
    NameOID.COUNTRY_NAME: "C",
    NameOID.STATE_OR_PROVINCE_NAME: "ST",
    NameOID.LOCALITY_NAME: "L",
    NameOID.ORGANIZATION_NAME: "O",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "OU",
    NameOID.COMMON_NAME: "CN",
    NameOID.SERIAL_NUMBER: "SERIALNUMBER",
    NameOID.EMAIL_ADDRESS: "EMAILADDRESS",
    NameOID.STREET_ADDRESS: "STREET",
    NameOID.DOMAIN_COMPONENT: "DC",
    NameOID.USER_ID: "UID",
}

Dn = tuple[tuple[str, str], ...]


class DnError(ValueError):
    """A distinguished name or trusted identity that cannot be used."""


def _split_unescaped(text: str, separator: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    for char in text:
        if escaped:
            current.append("\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if escaped:
        raise DnError("a distinguished name must not end with a lone backslash")
    parts.append("".join(current))
    return parts


def _unescape(value: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(value):
        char = value[index]
        if char == "\\" and index + 1 < len(value):
            index += 1
            char = value[index]
        out.append(char)
        index += 1
    return "".join(out)


def parse_dn(text: str) -> Dn:
    """``C=US, ST=WA, O=Contoso`` -> ``(("C","US"), ("ST","WA"), ("O","Contoso"))``.

    Attribute names are upper-cased (and S becomes ST); each attribute may appear once,
    because "O=A, O=B" has no single meaning to match against.
    """
    if not text.strip():
        raise DnError("a distinguished name must not be empty")
    pairs: list[tuple[str, str]] = []
    for part in _split_unescaped(text, ","):
        name, equals, value = part.partition("=")
        name, value = name.strip().upper(), _unescape(value.strip())
        if not equals or not name or not value:
            raise DnError(f"{part.strip()!r} is not an ATTRIBUTE=value pair")
        if not name.isalnum():
            raise DnError(f"{name!r} is not an attribute name")
        name = _ALIASES.get(name, name)
        if any(seen == name for seen, _ in pairs):
            raise DnError(f"attribute {name} appears twice")
        pairs.append((name, value))
    return tuple(pairs)


def require_trust_attributes(dn: Dn) -> None:
    """Refuse a DN that lacks one of C, ST and O (notation's rule for identities)."""
    present = {name for name, _ in dn}
    missing = [name for name in REQUIRED_ATTRIBUTES if name not in present]
    if missing:
        raise DnError(
            f"a trusted identity needs the attributes C, ST and O; {', '.join(missing)} missing"
        )


def parse_identity(text: str) -> Dn | None:
    """A trusted identity; None for the wildcard ``*`` (any certificate of the store)."""
    if text == WILDCARD:
        return None
    if not text.startswith(IDENTITY_PREFIX):
        raise DnError(f"a trusted identity is '*' or '{IDENTITY_PREFIX} C=.., ST=.., O=..'")
    dn = parse_dn(text[len(IDENTITY_PREFIX) :])
    require_trust_attributes(dn)
    return dn


def format_dn(dn: Dn) -> str:
    """The DN as notation writes it in policies: ``C=US, ST=WA, O=Contoso``."""

    def escaped(value: str) -> str:
        return "".join("\\" + c if c in ',+"\\<>;=' else c for c in value)

    return ", ".join(f"{name}={escaped(value)}" for name, value in dn)


def identity_for(dn: Dn) -> str:
    return f"{IDENTITY_PREFIX} {format_dn(dn)}"


def certificate_subject(certificate: x509.Certificate) -> Dn:
    """The subject of a certificate as a DN, most significant attribute first."""
    pairs: list[tuple[str, str]] = []
    for rdn in certificate.subject.rdns:
        for attribute in rdn:
            name = _SHORT_NAMES.get(attribute.oid, attribute.oid.dotted_string)
            value = attribute.value
            pairs.append((name, value if isinstance(value, str) else value.decode("latin-1")))
    return tuple(pairs)


def matches(identity: Dn | None, subject: Dn) -> bool:
    """Whether every attribute of ``identity`` appears with the same value in ``subject``."""
    if identity is None:
        return True
    held = dict(subject)
    return all(held.get(name) == value for name, value in identity)


def overlapping(identities: Sequence[Dn]) -> tuple[int, int] | None:
    """Indexes of two identities where one would match whatever the other matches."""
    for i, first in enumerate(identities):
        for j in range(i + 1, len(identities)):
            a, b = set(first), set(identities[j])
            if a <= b or b <= a:
                return (i, j)
    return None
