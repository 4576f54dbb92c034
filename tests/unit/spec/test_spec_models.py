"""The models' rules as seen from Python: what code building specs directly gets."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from acr_reconcile.spec.models import (
    ImageSpec,
    PrincipalRef,
    RegistrySpec,
    RoleDefinitionRef,
    SignerSpec,
    Sku,
    TrustStatus,
)
from acr_reconcile.spec.regions import normalise_region
from acr_reconcile.spec.roles import (
    BUILTIN_ROLES,
    builtin_role_name,
    role_definition_guid,
    role_display_name,
)

PUSH = "8311e382-0749-4cb8-b61a-304f252e45ec"


def _errors(model: type[BaseModel], **fields: object) -> list[tuple[tuple[str | int, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(fields)
    return [(e["loc"], e["type"]) for e in caught.value.errors()]


def test_role_guids_for_names_and_references() -> None:
    assert role_definition_guid("AcrPush") == PUSH
    assert role_definition_guid(RoleDefinitionRef(role_definition_id=PUSH.upper())) == PUSH
    assert role_display_name(RoleDefinitionRef(role_definition_id=PUSH)) == "AcrPush"
    assert builtin_role_name("6CEF56E8-D556-48E5-A04F-B8E64114680F") == "AcrImageSigner"
    assert builtin_role_name("00000000-0000-0000-0000-000000000001") is None
    assert len(set(BUILTIN_ROLES.values())) == len(BUILTIN_ROLES) == 14


def test_principal_key_is_case_insensitive_for_ids() -> None:
    upper = "ABCDEF00-0000-0000-0000-000000000000"
    assert PrincipalRef(app_id=upper).key == ("appId", upper.lower())
    assert PrincipalRef(object_id=upper).key == ("objectId", upper.lower())
    assert PrincipalRef(display_name="Build Bot").key == ("displayName", "Build Bot")


def test_principal_needs_exactly_one_way() -> None:
    assert _errors(PrincipalRef) == [((), "principal_ref")]
    both = {"app_id": PUSH, "display_name": "x"}
    assert _errors(PrincipalRef, **both) == [((), "principal_ref")]


def test_trust_needs_premium_also_when_built_in_python() -> None:
    with pytest.raises(ValidationError, match="content trust needs the Premium SKU"):
        RegistrySpec(name="registrydavid", sku=Sku.STANDARD, content_trust=TrustStatus.ENABLED)
    premium = RegistrySpec(name="registrydavid", content_trust=TrustStatus.ENABLED)
    assert premium.sku is Sku.PREMIUM


def test_models_are_frozen() -> None:
    registry = RegistrySpec(name="registrydavid")
    with pytest.raises(ValidationError):
        registry.name = "other"


def test_strings_are_not_coerced() -> None:
    assert _errors(ImageSpec, repository="hello", tags=[1]) == [(("tags", 0), "string_type")]
    assert _errors(RegistrySpec, name="registrydavid", adminUserEnabled="no") == [
        (("adminUserEnabled",), "bool_type")
    ]


def test_a_role_by_name_and_by_its_guid_is_the_same_role() -> None:
    fields = {"name": "ci", "principal": {"appId": PUSH}}
    errors = _errors(SignerSpec, **fields, roles=["AcrPush", {"roleDefinitionId": PUSH}])
    assert errors == [(("roles", 1), "role_repeated")]


@pytest.mark.parametrize(
    "reference",
    [
        "hello-world",
        "library/hello-world:latest",
        "docker.io/library/hello-world:latest",
        "localhost:5000/team/app:1.2.3",
        "registry.example.com:443/a/b_c/d__e/f-g@sha256:" + "a" * 64,
        "[::1]:5000/app:v1",
        "mcr.microsoft.com/dotnet/runtime:8.0",
    ],
)
def test_valid_image_references(reference: str) -> None:
    assert ImageSpec(repository="app", tags=["t"], source=reference).source == reference


@pytest.mark.parametrize(
    "reference",
    ["", "Docker.io/Library/App", "app:", "app@sha256:abc", "-app", "a//b", "app:tag:tag"],
)
def test_invalid_image_references(reference: str) -> None:
    with pytest.raises(ValidationError, match="an image reference is"):
        ImageSpec(repository="app", tags=["t"], source=reference)


@pytest.mark.parametrize("repository", ["a", "a/b", "a-b/c.d/e_f", "a__b", "a---b", "0/1"])
def test_valid_repositories(repository: str) -> None:
    assert ImageSpec(repository=repository, tags=["t"]).repository == repository


@pytest.mark.parametrize("repository", ["A", "a/", "/a", "a.-b", "a___b", "a b", "a" * 256])
def test_invalid_repositories(repository: str) -> None:
    with pytest.raises(ValidationError, match="a repository name is lowercase"):
        ImageSpec(repository=repository, tags=["t"])


@pytest.mark.parametrize(
    ("written", "name"),
    [
        ("westeurope", "westeurope"),
        ("West Europe", "westeurope"),
        ("WEST  EUROPE", "westeurope"),
        ("East US 2", "eastus2"),
        ("usgovvirginia", "usgovvirginia"),
        ("mars", None),
    ],
)
def test_region_names_and_display_names(written: str, name: str | None) -> None:
    assert normalise_region(written) == name
