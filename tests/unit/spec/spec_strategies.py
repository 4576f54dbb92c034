"""Hypothesis strategies for valid spec documents, as the YAML-side mappings a user writes."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from acr_reconcile.spec.regions import REGIONS
from acr_reconcile.spec.roles import BUILTIN_ROLES, KEY_VAULT_ROLES
from acr_reconcile.spec.rules import IMAGE_TAG_PATTERN, REPOSITORY_PATTERN

guids = st.uuids().map(str) | st.uuids().map(lambda u: str(u).upper())
# Tag text: any printable character (no surrogates, controls or private use).
_text = st.characters(blacklist_categories=("Cs", "Cc", "Co", "Cn"))
tag_keys = st.text(_text.filter(lambda c: c not in "<>%&\\?/"), min_size=1, max_size=20)
tag_values = st.text(_text, max_size=30)
# Azure tag names ignore case: keys differing only in case are one tag.
tags = st.lists(
    st.tuples(tag_keys, tag_values), max_size=5, unique_by=lambda kv: kv[0].lower()
).map(dict)
regions = st.sampled_from(sorted(REGIONS) + sorted(REGIONS.values()))
registry_names = st.from_regex(r"[a-zA-Z0-9]{5,50}", fullmatch=True)
group_names = st.from_regex(r"[-a-zA-Z0-9_().]{0,30}[-a-zA-Z0-9_()]", fullmatch=True)
repositories = st.from_regex(REPOSITORY_PATTERN, fullmatch=True).filter(lambda r: len(r) <= 255)
image_tags = st.from_regex(IMAGE_TAG_PATTERN, fullmatch=True)
digests = st.from_regex(r"[0-9a-f]{64}", fullmatch=True).map(lambda h: f"sha256:{h}")
hosts = st.sampled_from(["docker.io", "mcr.microsoft.com", "localhost:5000", "ghcr.io"])
labels = st.text(_text, min_size=1, max_size=40).filter(lambda s: s.strip() != "")


@st.composite
def sources(draw: st.DrawFn) -> str:
    reference = f"{draw(hosts)}/{draw(repositories)}"
    if draw(st.booleans()):
        reference += f":{draw(image_tags)}"
    if draw(st.booleans()):
        reference += f"@{draw(digests)}"
    return reference


principals = st.one_of(
    guids.map(lambda g: {"objectId": g}),
    guids.map(lambda g: {"appId": g}),
    labels.map(lambda n: {"displayName": n}),
)
roles = st.lists(
    st.sampled_from(list(BUILTIN_ROLES)) | guids.map(lambda g: {"roleDefinitionId": g}),
    min_size=1,
    max_size=4,
    unique_by=lambda r: r if isinstance(r, str) else r["roleDefinitionId"].lower(),
)


def _label(signer: dict[str, Any]) -> str:
    return str(signer["name"])


def _identity(signer: dict[str, Any]) -> tuple[str, str]:
    ((kind, value),) = signer["principal"].items()
    return (kind, value.lower())


signers = st.lists(
    st.fixed_dictionaries(
        {"name": labels, "principal": principals, "roles": roles},
        optional={"principalType": st.sampled_from(["ServicePrincipal", "User", "Group"])},
    ),
    max_size=3,
    unique_by=(_label, _identity),
)


def _consistent_pin(image: dict[str, Any]) -> dict[str, Any]:
    """A pin must equal the digest a source names (an import keeps the source digest)."""
    source = image.get("source", "")
    if "@" in source and "digest" in image:
        image["digest"] = source.rpartition("@")[2]
    return image


images = st.lists(
    st.fixed_dictionaries(
        {"repository": repositories, "tags": st.lists(image_tags, min_size=1, max_size=3)},
        optional={"sign": st.booleans(), "source": sources(), "digest": digests},
    ).map(_consistent_pin),
    max_size=3,
    unique_by=lambda i: i["repository"],
)


@st.composite
def registries(draw: st.DrawFn) -> dict[str, Any]:
    sku = draw(st.sampled_from(["Basic", "Standard", "Premium"]))
    trust = draw(st.sampled_from(["enabled", "disabled"])) if sku == "Premium" else "disabled"
    registry = {
        "name": draw(registry_names),
        "sku": sku,
        "contentTrust": trust,
        "adminUserEnabled": draw(st.booleans()),
    }
    if draw(st.booleans()):
        registry["tags"] = draw(tags)
    return registry


vault_names = st.from_regex(r"[a-zA-Z][a-zA-Z0-9]{1,22}[a-zA-Z0-9]", fullmatch=True)
subjects = st.sampled_from(
    ["CN=release, O=Contoso, L=Seattle, ST=WA, C=US", "C=DE, ST=Berlin, O=Example, OU=Build"]
)
signing_keys = st.one_of(
    st.fixed_dictionaries(
        {
            "keyVault": st.fixed_dictionaries(
                {"name": vault_names, "certificate": vault_names, "subject": subjects},
                optional={"resourceGroup": group_names, "validityMonths": st.integers(1, 60)},
            )
        }
    ),
    st.just({"file": {"key": "dev/signing.key", "certificate": "dev/signing.crt"}}),
)
notations = st.fixed_dictionaries(
    {"signingKey": signing_keys},
    optional={
        "signatureFormat": st.sampled_from(["cose", "jws"]),
        "trustStore": st.lists(st.sampled_from(["certs/a.pem", "certs/b.pem"]), max_size=2),
        "trustedIdentities": st.sampled_from(
            [["x509.subject: C=US, ST=WA, O=Contoso"], ["*"], ["x509.subject: C=DE, S=BE, O=X"]]
        ),
    },
)


def _consistent_signing(spec: dict[str, Any]) -> dict[str, Any]:
    """sign: true needs DCT or notation; Key Vault roles need a vault to be assigned on."""
    notation = spec.get("notation")
    if spec["registry"]["contentTrust"] == "disabled" and notation is None:
        for image in spec.get("images", []):
            image["sign"] = False
    if notation is None or "keyVault" not in notation["signingKey"]:
        for signer in spec.get("signers", []):
            kept = [r for r in signer["roles"] if not (isinstance(r, str) and r in KEY_VAULT_ROLES)]
            signer["roles"] = kept or ["AcrPush"]
    return spec


specs = st.fixed_dictionaries(
    {
        "apiVersion": st.just("acr-reconcile/v1"),
        "kind": st.just("RegistryTrust"),
        "subscriptionId": guids,
        "resourceGroup": st.fixed_dictionaries(
            {"name": group_names, "location": regions}, optional={"tags": tags}
        ),
        "registry": registries(),
    },
    optional={
        "signers": signers,
        "roleAssignments": st.fixed_dictionaries({"prune": st.booleans()}),
        "images": images,
        "notation": notations,
    },
).map(_consistent_signing)
