"""A Notary Project signer whose key stays in Azure Key Vault.

The envelope code hashes the bytes to sign and hands the digest over; this signer sends
it to Key Vault (``POST {vault}/keys/{name}/{version}/sign``, the ``keys/sign``
permission, e.g. the Key Vault Crypto User role) and returns Key Vault's answer unchanged:
RSASSA-PSS with salt = hash length for PS*, raw ``r||s`` for ES* — the wire forms JWS and
COSE use. The certificate (``certificates/get``, e.g. Key Vault Certificate User) names
the key version to sign with, so the signature and the chain always belong together.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cryptography import x509

from acr_reconcile.azure.errors import translate
from acr_reconcile.errors import SigningKeyError
from acr_reconcile.notation.algorithms import Algorithm, UnsupportedKey, algorithm_for_key


class KeyVaultSigner:
    """Signs digests with the key of a Key Vault certificate (a CryptographyClient)."""

    def __init__(self, crypto: Any, chain: Sequence[x509.Certificate], key_id: str) -> None:
        if not chain:
            raise SigningKeyError(f"{key_id}: the certificate chain is empty")
        try:
            self._algorithm = algorithm_for_key(chain[0].public_key())
        except UnsupportedKey as error:
            raise SigningKeyError(f"{key_id}: {error}") from None
        self._crypto = crypto
        self._chain = list(chain)
        self._key_id = key_id

    @classmethod
    def from_certificate(
        cls, certificates: Any, name: str, credential: Any, **client_options: Any
    ) -> KeyVaultSigner:
        """The signer of certificate ``name`` (latest version) of a CertificateClient's
        vault; ``client_options`` go to the CryptographyClient (as for every client)."""
        from azure.core.exceptions import AzureError as SdkError
        from azure.keyvault.keys.crypto import CryptographyClient

        resource = f"{certificates.vault_url.rstrip('/')}/certificates/{name}"
        try:
            certificate = certificates.get_certificate(name)
        except SdkError as error:
            raise translate(error, resource, "reading the signing certificate") from None
        if not certificate.cer or not certificate.key_id:
            raise SigningKeyError(f"{resource}: the certificate has no key or no X.509 content")
        try:
            leaf = x509.load_der_x509_certificate(bytes(certificate.cer))
        except (ValueError, x509.InvalidVersion):
            raise SigningKeyError(
                f"{resource}: the certificate's X.509 content cannot be read"
            ) from None
        if leaf.issuer != leaf.subject:
            # A CA-issued chain lives in the certificate's secret; not read yet.
            raise SigningKeyError(
                f"{resource}: only self-signed Key Vault certificates are supported for now"
            )
        crypto = CryptographyClient(str(certificate.key_id), credential, **client_options)
        return cls(crypto, [leaf], str(certificate.key_id))

    def close(self) -> None:
        """Close the CryptographyClient's connections (the run is done signing)."""
        self._crypto.close()

    @property
    def key_id(self) -> str:
        """The Key Vault key (version) that signs: ``https://<vault>/keys/<name>/<version>``."""
        return self._key_id

    def key_algorithm(self) -> Algorithm:
        return self._algorithm

    def certificate_chain(self) -> Sequence[x509.Certificate]:
        return list(self._chain)

    def sign_digest(self, digest: bytes) -> bytes:
        from azure.core.exceptions import AzureError as SdkError
        from azure.keyvault.keys.crypto import SignatureAlgorithm

        try:
            result = self._crypto.sign(SignatureAlgorithm(self._algorithm.value), digest)
        except SdkError as error:
            raise translate(error, self._key_id, "signing with Key Vault") from None
        answered = getattr(result.algorithm, "value", result.algorithm)
        if answered != self._algorithm.value:
            raise SigningKeyError(
                f"{self._key_id}: Key Vault signed with {answered}, not {self._algorithm.value}"
            )
        signature: bytes = result.signature
        return signature
