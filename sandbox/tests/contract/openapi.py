"""Validation of response bodies against the official Azure OpenAPI (Swagger 2.0) specs
vendored in ``azure-specs/`` (provenance in its README).

Two checks: JSON Schema validation (``$ref`` resolved across files, ``allOf`` …), and a
stricter one Swagger cannot express: every property in a body must be declared by the
schema, so the emulator cannot drift into fields Azure does not send.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SPECS = Path(__file__).parent / "azure-specs" / "specification"
ACR = "containerregistry/resource-manager/Microsoft.ContainerRegistry/Registry/stable/2025-11-01/containerregistry.registries-excerpt.json"  # noqa: E501
RESOURCES = "resources/resource-manager/Microsoft.Resources/stable/2024-03-01/resources.json"
AUTHZ = "authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01"
ASSIGNMENTS = f"{AUTHZ}/authorization-RoleAssignmentsCalls.json"
DEFINITIONS = f"{AUTHZ}/authorization-RoleDefinitionsCalls.json"
COMMON_V6 = "common-types/resource-management/v6/types.json"
COMMON_V2 = "common-types/resource-management/v2/types.json"


def _nullable(node: Any) -> Any:
    """Swagger's ``x-nullable`` as JSON Schema (null allowed)."""
    if isinstance(node, dict):
        node = {k: _nullable(v) for k, v in node.items()}
        if node.get("x-nullable") and isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        return node
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    return node


@cache
def _registry() -> Registry[Any]:
    resources = []
    for path in SPECS.rglob("*.json"):
        document = _nullable(json.loads(path.read_text()))
        resources.append((path.resolve().as_uri(), Resource.from_contents(document, DRAFT4)))
    return Registry().with_resources(resources)


def ref(spec: str, definition: str) -> str:
    return f"{(SPECS / spec).resolve().as_uri()}#/definitions/{definition}"


def validate(body: Any, schema_ref: str) -> list[str]:
    """Every problem with ``body`` against the definition ``schema_ref`` (empty: valid)."""
    validator = Draft4Validator({"$ref": schema_ref}, registry=_registry())
    problems = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)
    ]
    problems += undeclared(body, {"$ref": schema_ref}, "")
    return problems


Resolver = Any  # referencing.Resolver


def _resolve(schema: dict[str, Any], resolver: Resolver) -> tuple[dict[str, Any], Resolver]:
    while "$ref" in schema:
        resolved = resolver.lookup(schema["$ref"])
        schema, resolver = resolved.contents, resolved.resolver
    return schema, resolver


Declared = dict[str, tuple[dict[str, Any], Resolver]]


def _properties(schema: dict[str, Any], resolver: Resolver) -> tuple[Declared, bool]:
    """Declared properties (with their resolvers), and whether any others are allowed."""
    schema, resolver = _resolve(schema, resolver)
    found: Declared = {name: (sub, resolver) for name, sub in schema.get("properties", {}).items()}
    open_ended = bool(schema.get("additionalProperties")) and not schema.get("properties")
    for part in schema.get("allOf", []):
        inner, inner_open = _properties(part, resolver)
        found.update(inner)
        open_ended = open_ended or inner_open
    return found, open_ended


def undeclared(
    body: Any, schema: dict[str, Any], path: str, resolver: Resolver | None = None
) -> list[str]:
    resolver = resolver or _registry().resolver()
    schema, resolver = _resolve(schema, resolver)
    if isinstance(body, list):
        items = schema.get("items")
        if not isinstance(items, dict):
            return []
        return [
            problem
            for index, value in enumerate(body)
            for problem in undeclared(value, items, f"{path}/{index}", resolver)
        ]
    if not isinstance(body, dict):
        return []
    declared, open_ended = _properties(schema, resolver)
    if open_ended or not declared:
        return []
    problems = []
    for key, value in body.items():
        if key not in declared:
            problems.append(f"{path}/{key}: not declared by the spec")
            continue
        sub, sub_resolver = declared[key]
        problems += undeclared(value, sub, f"{path}/{key}", sub_resolver)
    return problems
