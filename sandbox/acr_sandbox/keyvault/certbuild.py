"""Certificates from a Key Vault certificate policy: the self-signed X.509 certificate and
its CSR, the policy as Key Vault answers it (defaults filled in), the certificate's secret
(PKCS#12 or PEM by content type), and reading an imported PFX/PEM back into a policy.

``key_usage`` becomes a *critical* keyUsage extension with exactly the listed bits; EKUs go
into a non-critical extendedKeyUsage; validity runs from ten minutes before creation for
``validity_months`` calendar months (the real service's ``nbf``/``exp`` pattern).
"""

from __future__ import annotations

import base64
import calendar
import datetime as dt
import hashlib
import ipaddress
import re
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ObjectIdentifier

from acr_sandbox.keyvault import crypto

Json = dict[str, Any]
PKCS12 = "application/x-pkcs12"
PEM = "application/x-pem-file"
UPN = ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")
USAGES = {
    "digitalSignature": "digital_signature",
    "nonRepudiation": "content_commitment",
    "keyEncipherment": "key_encipherment",
    "dataEncipherment": "data_encipherment",
    "keyAgreement": "key_agreement",
    "keyCertSign": "key_cert_sign",
    "cRLSign": "crl_sign",
    "encipherOnly": "encipher_only",
    "decipherOnly": "decipher_only",
}
_PEM_KEY = re.compile(rb"-----BEGIN ([A-Z ]*)PRIVATE KEY-----.+?-----END \1PRIVATE KEY-----", re.S)
DEFAULT_EKUS = ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]


class PolicyError(ValueError):
    """The policy or the imported certificate is unusable (Key Vault's 400 BadParameter)."""


def _strings(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError(f"'{field}' must be an array of strings.")
    return list(value)


def normalized(raw: Any, *, for_import: bool = False) -> Json:
    """The policy Key Vault stores: the request's fields checked, defaults filled in."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise PolicyError("'policy' must be an object.")
    key_raw = raw.get("key_props") or {}
    x509_raw = raw.get("x509_props") or {}
    secret_raw = raw.get("secret_props") or {}
    issuer_raw = raw.get("issuer") or {}
    if not all(isinstance(p, dict) for p in (key_raw, x509_raw, secret_raw, issuer_raw)):
        raise PolicyError("The policy's key_props, x509_props, secret_props, issuer are objects.")
    kty = str(key_raw.get("kty", "RSA"))
    if kty not in crypto.KEY_TYPES:
        raise PolicyError(f"The key type '{kty}' is not supported.")
    key_props: Json = {
        "exportable": bool(key_raw.get("exportable", True)),
        "kty": kty,
        "reuse_key": bool(key_raw.get("reuse_key", False)),
    }
    if kty.startswith("RSA"):
        size = key_raw.get("key_size", 2048)
        if size not in crypto.RSA_SIZES:
            raise PolicyError(f"The key size {size} is not supported; use 2048, 3072 or 4096.")
        key_props["key_size"] = size
    else:
        curve = key_raw.get("crv", "P-256")
        if curve not in crypto.CURVES:
            raise PolicyError(f"The curve '{curve}' is not supported.")
        key_props["crv"] = curve
    content_type = secret_raw.get("contentType", PKCS12)
    if content_type not in (PKCS12, PEM):
        raise PolicyError(f"The content type '{content_type}' must be {PKCS12} or {PEM}.")
    subject = x509_raw.get("subject")
    if not for_import and (not isinstance(subject, str) or not subject):
        raise PolicyError("The policy's 'x509_props.subject' is required.")
    usages = _strings(x509_raw.get("key_usage"), "x509_props.key_usage")
    unknown = [u for u in usages if u not in USAGES]
    if unknown:
        raise PolicyError(f"Unknown key usage(s): {', '.join(unknown)}.")
    if not usages:
        usages = (
            ["digitalSignature", "keyEncipherment"]
            if kty.startswith("RSA")
            else ["digitalSignature"]
        )
    months = x509_raw.get("validity_months", 12)
    if not isinstance(months, int) or isinstance(months, bool) or not 1 <= months <= 1200:
        raise PolicyError("'x509_props.validity_months' must be a whole number of months.")
    x509_props: Json = {
        "subject": subject or "",
        "sans": _sans(x509_raw.get("sans")),
        "ekus": _strings(x509_raw["ekus"], "x509_props.ekus")
        if "ekus" in x509_raw
        else list(DEFAULT_EKUS),
        "key_usage": usages,
        "validity_months": months,
    }
    issuer = {"name": str(issuer_raw.get("name", "Self" if not for_import else "Unknown"))}
    if "cty" in issuer_raw:
        issuer["cty"] = str(issuer_raw["cty"])
    policy: Json = {
        "key_props": key_props,
        "secret_props": {"contentType": content_type},
        "x509_props": x509_props,
        "issuer": issuer,
    }
    if isinstance(raw.get("lifetime_actions"), list):
        policy["lifetime_actions"] = raw["lifetime_actions"]
    return policy


def _sans(raw: Any) -> Json:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise PolicyError("'x509_props.sans' must be an object.")
    sans: Json = {}
    for field in ("emails", "dns_names", "upns", "uris", "ipAddresses"):
        values = _strings(raw.get(field), f"x509_props.sans.{field}")
        if values:
            sans[field] = values
    return sans


def _name(subject: str) -> x509.Name:
    try:
        return x509.Name.from_rfc4514_string(",".join(p.strip() for p in subject.split(",")))
    except ValueError as error:
        raise PolicyError(f"The subject '{subject}' is not a valid X.500 name ({error}).") from None


def _general_names(sans: Json) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [x509.DNSName(n) for n in sans.get("dns_names", [])]
    names += [x509.RFC822Name(e) for e in sans.get("emails", [])]
    names += [x509.UniformResourceIdentifier(u) for u in sans.get("uris", [])]
    for upn in sans.get("upns", []):
        # OtherName UPN: a DER UTF8String
        encoded = upn.encode()
        names.append(x509.OtherName(UPN, bytes([0x0C, len(encoded)]) + encoded))
    try:
        names += [x509.IPAddress(ipaddress.ip_address(a)) for a in sans.get("ipAddresses", [])]
    except ValueError as error:
        raise PolicyError(f"'x509_props.sans.ipAddresses': {error}") from None
    return names


def _key_usage(usages: list[str]) -> x509.KeyUsage:
    flags = dict.fromkeys(USAGES.values(), False)
    for usage in usages:
        flags[USAGES[usage]] = True
    try:
        return x509.KeyUsage(**flags)
    except ValueError as error:
        raise PolicyError(f"'x509_props.key_usage': {error}") from None


def _extensions(policy: Json) -> list[tuple[x509.ExtensionType, bool]]:
    props = policy["x509_props"]
    extensions: list[tuple[x509.ExtensionType, bool]] = [(_key_usage(props["key_usage"]), True)]
    if props["ekus"]:
        try:
            ekus = [ObjectIdentifier(oid) for oid in props["ekus"]]
        except ValueError as error:
            raise PolicyError(f"'x509_props.ekus': {error}") from None
        extensions.append((x509.ExtendedKeyUsage(ekus), False))
    names = _general_names(props["sans"])
    if names:
        extensions.append((x509.SubjectAlternativeName(names), False))
    extensions.append((x509.BasicConstraints(ca=False, path_length=None), False))
    return extensions


def _signing_hash(key: crypto.PrivateKey) -> hashes.SHA256 | hashes.SHA384 | hashes.SHA512:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if key.curve.key_size == 384:
            return hashes.SHA384()
        if key.curve.key_size == 521:
            return hashes.SHA512()
    return hashes.SHA256()


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def self_signed(key: crypto.PrivateKey, policy: Json, created: int) -> x509.Certificate:
    subject = _name(policy["x509_props"]["subject"])
    not_before = dt.datetime.fromtimestamp(created - 600, dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(add_months(not_before, policy["x509_props"]["validity_months"]))
    )
    for extension, critical in _extensions(policy):
        builder = builder.add_extension(extension, critical=critical)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    builder = builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
    )
    builder = builder.add_extension(ski, critical=False)
    return builder.sign(key, _signing_hash(key))


def csr(key: crypto.PrivateKey, policy: Json) -> bytes:
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        _name(policy["x509_props"]["subject"])
    )
    for extension, critical in _extensions(policy):
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(key, _signing_hash(key)).public_bytes(serialization.Encoding.DER)


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def x5t(cert_der: bytes) -> str:
    return crypto.b64url(hashlib.sha1(cert_der, usedforsecurity=False).digest())


def secret_value(
    key: crypto.PrivateKey, chain: list[x509.Certificate], content_type: str, exportable: bool
) -> str:
    """The certificate's secret: PEM (key, then certificates) or base64 PKCS#12.

    A non-exportable key stays out of the secret: it then holds the certificates only.
    """
    if content_type == PEM:
        parts = [crypto.to_pem(key)] if exportable else []
        parts += [c.public_bytes(serialization.Encoding.PEM).decode() for c in chain]
        return "".join(parts)
    blob = pkcs12.serialize_key_and_certificates(
        None,
        key if exportable else None,
        chain[0] if exportable else None,
        chain[1:] if exportable else chain,
        serialization.NoEncryption(),
    )
    return base64.b64encode(blob).decode()


def parse_import(
    value: str, password: str | None, content_type: str
) -> tuple[crypto.PrivateKey, list[x509.Certificate]]:
    """The private key and certificate chain (leaf first) of an imported certificate."""
    if content_type == PEM or value.lstrip().startswith("-----BEGIN"):
        data = value.encode()
        try:
            certs = x509.load_pem_x509_certificates(data)
        except ValueError:
            raise PolicyError("The PEM holds no certificate.") from None
        found = _PEM_KEY.search(data)
        if found is None:
            raise PolicyError("The PEM holds no private key.")
        try:
            loaded = serialization.load_pem_private_key(found.group(0), password=None)
        except ValueError as error:
            raise PolicyError(f"The PEM private key cannot be read ({error}).") from None
    else:
        try:
            blob = base64.b64decode(value, validate=True)
            loaded_key, leaf, extra = pkcs12.load_key_and_certificates(
                blob, password.encode() if password else None
            )
        except ValueError:
            raise PolicyError(
                "The specified PKCS#12 X.509 certificate content can not be read. Please "
                "check if certificate is in valid PKCS#12 format."
            ) from None
        if leaf is None or loaded_key is None:
            raise PolicyError("The PKCS#12 content holds no certificate with its private key.")
        loaded, certs = loaded_key, [leaf, *extra]
    if not isinstance(loaded, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise PolicyError("The certificate's private key must be RSA or EC.")
    mine = _public_der(loaded.public_key())
    leaf_match = [c for c in certs if _public_der(c.public_key()) == mine]
    if not leaf_match:
        raise PolicyError("The private key does not belong to the certificate.")
    certs = leaf_match[:1] + [c for c in certs if c is not leaf_match[0]]
    return loaded, certs


def _public_der(key: Any) -> bytes:
    der: bytes = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return der


def policy_of(cert: x509.Certificate, key: crypto.PrivateKey, content_type: str) -> Json:
    """The policy Key Vault derives from an imported certificate."""
    key_props: Json = {"exportable": True, "reuse_key": False}
    if isinstance(key, rsa.RSAPrivateKey):
        key_props |= {"kty": "RSA", "key_size": key.key_size}
    else:
        key_props |= {"kty": "EC", "crv": crypto.curve_name(key)}
    usages: list[str] = []
    ekus: list[str] = []
    sans: Json = {}
    for ext in cert.extensions:
        value = ext.value
        if isinstance(value, x509.KeyUsage):
            for name, attr in USAGES.items():
                try:
                    if getattr(value, attr):
                        usages.append(name)
                except ValueError:
                    continue
        elif isinstance(value, x509.ExtendedKeyUsage):
            ekus = [oid.dotted_string for oid in value]
        elif isinstance(value, x509.SubjectAlternativeName):
            dns = value.get_values_for_type(x509.DNSName)
            emails = value.get_values_for_type(x509.RFC822Name)
            if dns:
                sans["dns_names"] = dns
            if emails:
                sans["emails"] = emails
    months = round((cert.not_valid_after_utc - cert.not_valid_before_utc).days / 30.4)
    return {
        "key_props": key_props,
        "secret_props": {"contentType": content_type},
        "x509_props": {
            "subject": cert.subject.rfc4514_string(),
            "sans": sans,
            "ekus": ekus,
            "key_usage": usages,
            "validity_months": max(1, months),
        },
        "issuer": {"name": "Unknown"},
    }
