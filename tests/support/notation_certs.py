"""Certificates and keys shaped the way the Notary Project specification wants them (and
deliberately broken ones), made per test so no key material is committed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from acr_reconcile.notation.signer import FileSigner

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def name(cn: str, org: str = "Contoso") -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "WA"),
            x509.NameAttribute(NameOID.LOCALITY_NAME, "Seattle"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def new_key(kind: str) -> Any:
    if kind.startswith("rsa"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(kind[3:]))
    curve = {"p256": ec.SECP256R1(), "p384": ec.SECP384R1(), "p521": ec.SECP521R1()}[kind]
    return ec.generate_private_key(curve)


def _usage(**bits: bool) -> x509.KeyUsage:
    fields = dict.fromkeys(
        [
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        ],
        False,
    )
    fields.update(bits)
    return x509.KeyUsage(**fields)


def certificate(
    key: Any,
    subject: x509.Name,
    *,
    issuer: tuple[Any, x509.Name] | None = None,
    ca: bool = False,
    usage: x509.KeyUsage | None = None,
    usage_critical: bool = True,
    eku: list[x509.ObjectIdentifier] | None = None,
    not_after: datetime | None = None,
    constraints_critical: bool = True,
) -> x509.Certificate:
    signing_key, issuer_name = issuer or (key, subject)
    if usage is None:
        usage = _usage(key_cert_sign=True, crl_sign=True) if ca else _usage(digital_signature=True)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(not_after or NOW + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), constraints_critical)
        .add_extension(usage, usage_critical)
    )
    if eku is None and not ca:
        eku = [ExtendedKeyUsageOID.CODE_SIGNING]
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), False)
    return builder.sign(signing_key, hashes.SHA256())


@dataclass
class Identity:
    """A signing key with its chain (leaf first)."""

    key: Any
    chain: list[x509.Certificate]

    @property
    def signer(self) -> FileSigner:
        return FileSigner(self.key, self.chain)

    @property
    def root_der(self) -> bytes:
        return self.chain[-1].public_bytes(serialization.Encoding.DER)

    def write(self, directory: Path, stem: str = "signing") -> tuple[Path, Path]:
        key_path, cert_path = directory / f"{stem}.key", directory / f"{stem}.crt"
        key_path.write_bytes(
            self.key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        cert_path.write_bytes(
            b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.chain)
        )
        return key_path, cert_path


def self_signed(kind: str = "rsa2048", cn: str = "release", **options: Any) -> Identity:
    key = new_key(kind)
    return Identity(key, [certificate(key, name(cn), **options)])


def ca_chain(kind: str = "rsa2048", *, leaf_options: dict[str, Any] | None = None) -> Identity:
    """Leaf <- intermediate <- root, all well formed unless leaf_options say otherwise."""
    root_key, mid_key, leaf_key = new_key("rsa3072"), new_key("rsa2048"), new_key(kind)
    root = certificate(root_key, name("Contoso Root"), ca=True)
    mid = certificate(mid_key, name("Contoso Signing CA"), issuer=(root_key, root.subject), ca=True)
    leaf = certificate(
        leaf_key, name("release"), issuer=(mid_key, mid.subject), **(leaf_options or {})
    )
    return Identity(leaf_key, [leaf, mid, root])
