"""Rules that compare list entries with each other inside one spec document.

A principal, a role of a signer, or a ``repository:tag`` declared twice with different
intent would make the desired state ambiguous; each problem points at the later entry
and names the earlier one, so the fix is obvious.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from acr_reconcile.spec.roles import role_definition_guid

if TYPE_CHECKING:
    from acr_reconcile.spec.models import ImageSpec, RoleRef, SignerSpec

Problem = tuple[tuple[str | int, ...], str, str]  # (location below the model, rule, message)


def raise_at(model: str, problems: Sequence[Problem]) -> None:
    """Raise every cross-field problem at once, each at the field it is about."""
    if problems:
        details = [
            InitErrorDetails(type=PydanticCustomError(rule, message), loc=loc, input=None)
            for loc, rule, message in problems
        ]
        raise ValidationError.from_exception_data(model, details)


def role_conflicts(roles: Sequence[RoleRef]) -> list[Problem]:
    """A role named twice (by name, or by name and by its GUID) in one signer."""
    problems: list[Problem] = []
    first: dict[str, int] = {}
    for index, role in enumerate(roles):
        guid = role_definition_guid(role)
        if guid in first:
            message = f"the same role is already listed as roles.{first[guid]}"
            problems.append(((index,), "role_repeated", message))
        first.setdefault(guid, index)
    return problems


def _principal_identity(signer: SignerSpec) -> tuple[str, str]:
    kind, value = signer.principal.key
    return (kind, value.lower())


def signer_conflicts(signers: Sequence[SignerSpec]) -> list[Problem]:
    """The same principal, or the same signer label, listed twice."""
    problems: list[Problem] = []
    principals: dict[tuple[str, str], int] = {}
    names: dict[str, int] = {}
    for index, signer in enumerate(signers):
        identity = _principal_identity(signer)
        if identity in principals:
            message = (
                f"the same principal ({identity[0]} {signer.principal.key[1]!r}) is already "
                f"listed as signers.{principals[identity]}; give each principal one entry "
                "with all its roles"
            )
            problems.append(((index, "principal"), "principal_repeated", message))
        principals.setdefault(identity, index)
        if signer.name in names:
            message = f"signer name {signer.name!r} is already used by signers.{names[signer.name]}"
            problems.append(((index, "name"), "signer_name_repeated", message))
        names.setdefault(signer.name, index)
    return problems


def _settings(image: ImageSpec) -> dict[str, object]:
    return {"sign": image.sign, "source": image.source, "digest": image.digest}


def image_conflicts(images: Sequence[ImageSpec]) -> list[Problem]:
    """A ``repository:tag`` declared twice with different sign/source/digest settings."""
    problems: list[Problem] = []
    first: dict[tuple[str, str], int] = {}
    for index, image in enumerate(images):
        for tag_index, tag in enumerate(image.tags):
            earlier = first.setdefault((image.repository, tag), index)
            if earlier == index:
                continue
            before, now = _settings(images[earlier]), _settings(image)
            differ = [name for name in now if now[name] != before[name]]
            if differ:
                message = (
                    f"{image.repository}:{tag} is already declared by images.{earlier} with "
                    f"different {'/'.join(differ)}; declare each tag once"
                )
                problems.append(((index, "tags", tag_index), "tag_conflict", message))
    return problems
