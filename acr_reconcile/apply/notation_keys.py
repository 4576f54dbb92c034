"""The signing keys of Notary Project signatures in apply: made once per key and run, and
checked before the first write.

A plan names its key (a Key Vault certificate, or PEM files) and never carries it. Apply
builds the signer when it first needs it: for Key Vault, the vault is found by name in the
subscription (a vault this apply created had no URI at plan time), the certificate read
with ``certificates/get`` and a ``CryptographyClient`` made for its key version with the
same credential, CA bundle and retry bounds as every other client; the digest goes to
``keys/sign``. For files, the PEM key and chain are loaded.

Readiness: before anything is written, apply reads each certificate and signs one probe
digest with it (one ``keys/sign``; nothing is stored), so a caller without Key Vault
Crypto User or Certificate User is refused naming the vault and certificate, with
nothing changed. When this apply itself grants the caller a Key Vault role on that vault
(or creates the vault or certificate) the check cannot pass yet: the handler then waits
for Key Vault to honour the grant (``until_authorized``), bounded, saying so.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from acr_reconcile.apply import retry
from acr_reconcile.apply.context import ApplyContext
from acr_reconcile.apply.keyvault_access import until_authorized
from acr_reconcile.azure.clients import AzureSession
from acr_reconcile.errors import AcrReconcileError, SigningKeyError
from acr_reconcile.notation.signer import Signer
from acr_reconcile.plan.model import (
    Action,
    Change,
    Kind,
    NotationSignatureParams,
    Plan,
    RoleAssignmentParams,
)

_PROBE = b"acr-reconcile: can this identity sign?"
KeyName = tuple[str, ...]


def key_name(params: NotationSignatureParams) -> KeyName:
    if params.key_source == "key-vault":
        return ("key-vault", params.subscription_id.lower(), str(params.key_vault).lower(),
                str(params.certificate).lower())  # fmt: skip
    return ("file", str(params.key_file), str(params.certificate_file))


def describe(params: NotationSignatureParams) -> str:
    if params.key_source == "key-vault":
        return f"key vault {params.key_vault}, certificate {params.certificate}"
    return f"key file {params.key_file} (certificate {params.certificate_file})"


def probe(signer: Signer) -> None:
    """Sign one digest of the key's hash: proves the key signs for this identity."""
    algorithm = signer.key_algorithm()
    digest = hashlib.new(algorithm.hash.name, _PROBE).digest()
    signer.sign_digest(digest)


class SignerSource:
    """One signer per key for the whole run, shared by the handler's threads."""

    def __init__(self, session: AzureSession, plan: Plan) -> None:
        self._session = session
        self._pending = vaults_made_or_granted(plan)
        self._made: dict[KeyName, Signer] = {}
        self._locks: dict[KeyName, threading.Lock] = {}
        self._lock = threading.Lock()

    def waits_for(self, params: NotationSignatureParams) -> bool:
        """Whether this plan grants the caller a role on the key's vault (or makes the
        vault or certificate): Key Vault's 403s are then the grant's delay."""
        return params.key_source == "key-vault" and str(params.key_vault).lower() in self._pending

    def __call__(self, params: NotationSignatureParams, ctx: ApplyContext) -> Signer:
        name = key_name(params)
        with self._lock:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:  # built once; other threads of the run wait for that one build
            if name not in self._made:
                self._made[name] = self._build(params, ctx)
            return self._made[name]

    def close(self) -> None:
        """Close the signers' clients (Key Vault connections); the run signs no more."""
        with self._lock:
            made, self._made = list(self._made.values()), {}
        for signer in made:
            close = getattr(signer, "close", None)
            if close is not None:
                close()

    def _build(self, params: NotationSignatureParams, ctx: ApplyContext) -> Signer:
        if params.key_source == "file":
            return file_signer(params)
        if params.key_source != "key-vault":
            where = f"{params.repository}:{params.tag}"
            raise SigningKeyError(f"{where}: the plan names no signing key")
        waits = self.waits_for(params)
        vault = str(params.key_vault)

        def build() -> Signer:
            signer = key_vault_signer(self._session, params)
            if waits:
                probe(signer)  # the Crypto User grant may count later than the certificate's
            return signer

        return until_authorized(build, vault, waits, ctx)


def file_signer(params: NotationSignatureParams) -> Signer:
    from acr_reconcile.notation.signer import FileSigner, SignerError

    try:
        return FileSigner.from_files(Path(str(params.key_file)), Path(str(params.certificate_file)))
    except SignerError as error:
        raise SigningKeyError(str(error)) from None


def key_vault_signer(session: AzureSession, params: NotationSignatureParams) -> Signer:
    from acr_reconcile.azure.keyvault_signer import KeyVaultSigner
    from acr_reconcile.live.keyvault import find_vault

    vault = find_vault(session, params.subscription_id, str(params.key_vault))
    if vault is None or not vault.vault_uri:
        raise SigningKeyError(
            f"key vault {params.key_vault}: not found in subscription {params.subscription_id}"
        )
    certificates = session.certificates(vault.vault_uri)
    return KeyVaultSigner.from_certificate(
        certificates,
        str(params.certificate),
        session.credential,
        **session.data_plane_options(vault.vault_uri),
    )


def vaults_made_or_granted(plan: Plan) -> frozenset[str]:
    """Vault names (lower case) this plan creates, creates a certificate in, or grants the
    identity running apply a role on."""
    names: set[str] = set()
    for change in plan.pending:
        params = change.params
        if change.kind in (Kind.KEY_VAULT, Kind.SIGNING_CERTIFICATE):
            names.add(str(getattr(params, "vault", "")).lower())
        elif isinstance(params, RoleAssignmentParams) and params.for_caller:
            scope = params.scope.lower()
            if "/providers/microsoft.keyvault/vaults/" in scope:
                names.add(scope.rsplit("/", 1)[-1])
    return frozenset(names)


def signing_changes(plan: Plan) -> list[Change]:
    return [
        c for c in plan.pending if c.kind is Kind.NOTATION_SIGNATURE and c.action is Action.CREATE
    ]


def require_signing_ready(
    plan: Plan, source: SignerSource, ctx: ApplyContext, *, say: Callable[[str], None]
) -> None:
    """Every key the plan signs with opens and signs, or apply stops before its first
    write, naming each key that does not (a key whose vault access this plan grants is
    waited for later, by the handler)."""
    problems: list[str] = []
    for params in _distinct_keys(signing_changes(plan)):
        if source.waits_for(params):
            say(f"{describe(params)}: signing is checked once this apply's Key Vault grants count")
            continue
        try:  # throttling (429) past the SDK's own retries is waited out here too
            check = functools.partial(lambda p: probe(source(p, ctx)), params)
            retry.call(check, describe(params), "signing", ctx.retry)
        except AcrReconcileError as error:
            problems.append(f"  {describe(params)}: {error}")
    if problems:
        advice = (
            "nothing was changed; give the identity running apply Key Vault Crypto User and "
            "Key Vault Certificate User on the vault (or fix the key files) and run apply again"
        )
        head = f"apply cannot start: {len(problems)} signing key(s) cannot sign"
        raise SigningKeyError("\n".join([head, *problems, advice]))


def _distinct_keys(changes: Iterable[Change]) -> list[NotationSignatureParams]:
    seen: dict[KeyName, NotationSignatureParams] = {}
    for change in changes:
        params = change.params_as(NotationSignatureParams)
        seen.setdefault(key_name(params), params)
    return list(seen.values())
