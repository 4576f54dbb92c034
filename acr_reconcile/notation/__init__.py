"""Notary Project (Notation) signatures: payloads, JWS and COSE envelopes, their
verification under a trust policy, and the trust policy files ``notation`` reads.

Everything here is pure: bytes and certificates in, bytes and verdicts out. Reading
signatures from a registry and signing with Key Vault live in the layers that do I/O.
"""
