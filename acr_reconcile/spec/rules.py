"""The platform's naming rules as constrained string types for the spec models.

Each type checks one rule and, when it fails, says the rule (not just "invalid"), because
the person reading the message is fixing a YAML file without the Azure docs at hand.
Each type also carries its JSON Schema so editors flag the same mistakes while typing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from acr_reconcile.notation.manifest import is_referrer_tag
from acr_reconcile.spec.conflicts import Problem, raise_at
from acr_reconcile.spec.regions import closest_regions, normalise_region

GUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
REGISTRY_NAME_PATTERN = r"^[a-zA-Z0-9]{5,50}$"
RESOURCE_GROUP_PATTERN = r"^[-\w._()]{0,89}[-\w_()]$"
TAG_KEY_PATTERN = r"^[^<>%&\\?/]{1,512}$"
# OCI distribution grammar: lowercase path components joined by '/'.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
REPOSITORY_PATTERN = rf"^{_COMPONENT}(?:/{_COMPONENT})*$"
IMAGE_TAG_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"
SHA256_DIGEST_PATTERN = r"^sha256:[0-9a-f]{64}$"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
IMAGE_REFERENCE_PATTERN = (
    rf"^(?:{_HOST}(?::[0-9]+)?/)?{_COMPONENT}(?:/{_COMPONENT})*"
    rf"(?::[A-Za-z0-9_][A-Za-z0-9._-]{{0,127}})?(?:@{_DIGEST})?$"
)
REPOSITORY_MAX_LENGTH = 255
RESOURCE_GROUP_CHARS = re.compile(r"^[\w._()-]+$")


def _shown(value: str) -> str:
    """The offending value for a message, cut short so one issue stays one line."""
    text = value if len(value) <= 60 else value[:57] + "..."
    return repr(text)


def _fail(rule: str, message: str) -> PydanticCustomError:
    """An error whose message is final text (braces in it are not placeholders)."""
    return PydanticCustomError(rule, message)


def _registry_name(value: str) -> str:
    if not re.fullmatch(REGISTRY_NAME_PATTERN, value, re.ASCII):
        raise _fail(
            "registry_name",
            "a registry name must be 5-50 characters, letters and digits only; "
            f"got {_shown(value)}",
        )
    return value


def _resource_group_name(value: str) -> str:
    if not 1 <= len(value) <= 90 or not RESOURCE_GROUP_CHARS.match(value) or value[-1] == ".":
        raise _fail(
            "resource_group_name",
            "a resource group name must be 1-90 characters of letters, digits, '_', '(', ')', "
            f"'-' and '.', not ending in '.'; got {_shown(value)}",
        )
    return value


def _region(value: str) -> str:
    name = normalise_region(value)
    if name is None:
        near = closest_regions(value)
        hint = f" (did you mean {', '.join(near)}?)" if near else " (e.g. westeurope, eastus)"
        raise _fail(
            "region",
            f"{_shown(value)} is not a known Azure region{hint}",
        )
    return name


def _guid(value: str) -> str:
    if not re.fullmatch(GUID_PATTERN, value):
        raise _fail(
            "guid",
            f"must be a GUID like 00000000-0000-0000-0000-000000000000; got {_shown(value)}",
        )
    return value.lower()


def _tag_key(value: str) -> str:
    if not value or len(value) > 512 or re.search(r"[<>%&\\?/]", value):
        raise _fail(
            "tag_key",
            "an Azure tag name must be 1-512 characters without < > % & \\ ? /; "
            f"got {_shown(value)}",
        )
    return value


def _tag_value(value: str) -> str:
    if len(value) > 256:
        raise _fail("tag_value", "an Azure tag value must be at most 256 characters")
    return value


def _repository(value: str) -> str:
    if len(value) > REPOSITORY_MAX_LENGTH or not re.fullmatch(REPOSITORY_PATTERN, value):
        raise _fail(
            "repository",
            "a repository name is lowercase path components separated by '/', each of "
            "a-z 0-9 joined by '.', '_', '__' or '-' (at most 255 characters); "
            f"got {_shown(value)}",
        )
    return value


def _image_tag(value: str) -> str:
    if not re.fullmatch(IMAGE_TAG_PATTERN, value):
        raise _fail(
            "image_tag",
            "an image tag must be 1-128 characters of A-Z a-z 0-9 _ . -, not starting with "
            f"'.' or '-'; got {_shown(value)}",
        )
    if is_referrer_tag(value):
        raise _fail(
            "referrer_tag",
            "a sha256-<hex> tag is the index of a manifest's signatures (the OCI referrers "
            "tag schema), not an image tag; name the image's own tag",
        )
    return value


def _sha256_digest(value: str) -> str:
    if not re.fullmatch(SHA256_DIGEST_PATTERN, value):
        raise _fail(
            "digest",
            f"a digest must be 'sha256:' followed by 64 lowercase hex digits; got {_shown(value)}",
        )
    return value


def _image_reference(value: str) -> str:
    if len(value) > 512 or not re.fullmatch(IMAGE_REFERENCE_PATTERN, value):
        raise _fail(
            "image_reference",
            "an image reference is [registry[:port]/]repository[:tag][@digest] with a "
            f"lowercase repository, e.g. docker.io/library/hello-world:latest; got {_shown(value)}",
        )
    return value


def _text(limit: int) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not value.strip() or len(value) > limit:
            raise _fail("text", f"must be a non-blank string of at most {limit} characters")
        return value

    return check


def _schema(**schema: Any) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", **schema})


RegistryName = Annotated[
    str,
    AfterValidator(_registry_name),
    _schema(pattern=REGISTRY_NAME_PATTERN, minLength=5, maxLength=50),
]
ResourceGroupName = Annotated[
    str,
    AfterValidator(_resource_group_name),
    _schema(pattern=RESOURCE_GROUP_PATTERN, minLength=1, maxLength=90),
]
Region = Annotated[
    str,
    AfterValidator(_region),
    _schema(
        description="An Azure region, by name or display name ('westeurope' or 'West Europe'); "
        "kept as the name.",
        examples=["westeurope", "West Europe", "eastus"],
    ),
]
Guid = Annotated[str, AfterValidator(_guid), _schema(pattern=GUID_PATTERN)]
TagKey = Annotated[
    str, AfterValidator(_tag_key), _schema(pattern=TAG_KEY_PATTERN, minLength=1, maxLength=512)
]
TagValue = Annotated[str, AfterValidator(_tag_value), _schema(maxLength=256)]
Repository = Annotated[
    str,
    AfterValidator(_repository),
    _schema(pattern=REPOSITORY_PATTERN, maxLength=REPOSITORY_MAX_LENGTH),
]
ImageTag = Annotated[str, AfterValidator(_image_tag), _schema(pattern=IMAGE_TAG_PATTERN)]
Sha256Digest = Annotated[
    str, AfterValidator(_sha256_digest), _schema(pattern=SHA256_DIGEST_PATTERN)
]
ImageReference = Annotated[
    str, AfterValidator(_image_reference), _schema(pattern=IMAGE_REFERENCE_PATTERN, maxLength=512)
]
Label = Annotated[str, AfterValidator(_text(128)), _schema(minLength=1, maxLength=128)]
DisplayName = Annotated[str, AfterValidator(_text(256)), _schema(minLength=1, maxLength=256)]

MAX_TAGS = 50


def _distinct_tag_names(tags: dict[str, str]) -> dict[str, str]:
    """Azure compares tag names without case, so ``Env`` and ``env`` are one tag."""
    first: dict[str, str] = {}
    problems: list[Problem] = []
    for key in tags:
        seen = first.setdefault(key.lower(), key)
        if seen != key:
            message = f"tag {key!r} is the same Azure tag as {seen!r} (names ignore case)"
            problems.append(((key, "[key]"), "tag_name_repeated", message))
    raise_at("tags", problems)
    return tags


Tags = Annotated[
    dict[TagKey, TagValue],
    Field(max_length=MAX_TAGS),
    AfterValidator(_distinct_tag_names),
    WithJsonSchema(
        {
            "type": "object",
            "description": f"Azure tags: at most {MAX_TAGS}; string keys and values. "
            "Omitted: the resource's tags are left alone; written (even {}): exactly these.",
            "maxProperties": MAX_TAGS,
            "propertyNames": {"pattern": TAG_KEY_PATTERN, "minLength": 1, "maxLength": 512},
            "additionalProperties": {"type": "string", "maxLength": 256},
        }
    ),
]
