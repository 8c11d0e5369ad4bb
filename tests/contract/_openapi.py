"""The OpenAPI document as test data: operations, response schemas, a correct validator."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from jsonschema import Draft4Validator
from magic_hour_server.api._schema import extend_validator
from magic_hour_server.api._schema import resolve as resolve_refs

from tests.document import document, schemas

__all__ = [
    "DOCUMENT",
    "Operation",
    "Validator",
    "model_class",
    "named_schemas",
    "normalize",
    "operations",
    "resolve",
    "schema_variant",
]

DOCUMENT = document()  # the committed document, or the drill's changed copy


def resolve(node: Any, document: dict[str, Any]) -> Any:
    """`node` with its `$ref`s replaced, and OpenAPI 3.0's `nullable: true` written as JSON
    Schema says it (`type: [..., "null"]`), for the validator."""
    return _nullable_as_type(resolve_refs(node, document))


def _nullable_as_type(node: Any) -> Any:
    if isinstance(node, list):
        return [_nullable_as_type(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _nullable_as_type(value) for key, value in node.items()}
    if out.get("nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


Validator = extend_validator(Draft4Validator)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    tag: str
    spec: dict[str, Any]

    @property
    def module(self) -> ModuleType:
        """The generated module for this operation, e.g. `api.face_detection.create`."""
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in self.operation_id)
        return importlib.import_module(f"magic_hour_client.api.{self.tag}.{snake.lstrip('_')}")

    def response_schema(self, status: str) -> dict[str, Any]:
        response = resolve(self.spec["responses"][status], DOCUMENT)
        schema: dict[str, Any] = response["content"]["application/json"]["schema"]
        return schema

    def request_schema(self) -> dict[str, Any]:
        body = resolve(self.spec["requestBody"], DOCUMENT)
        schema: dict[str, Any] = body["content"]["application/json"]["schema"]
        return schema


def operations() -> Iterator[Operation]:
    for path, item in DOCUMENT["paths"].items():
        for method, spec in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield Operation(method, path, spec["operationId"], spec["tags"][0], spec)


def schema_variant(schema: Any, *, all_optional: bool) -> Any:
    """A copy of `schema` whose objects carry all properties, or only the required ones.

    With `all_optional=True` every documented property becomes required (our optional
    extensions always present); with False the optional ones are removed (a minimal
    hosted-API response). Extra keys are disallowed in both, so the generated bodies
    say exactly what the variant promises.
    """
    if isinstance(schema, list):
        return [schema_variant(item, all_optional=all_optional) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: schema_variant(value, all_optional=all_optional) for key, value in schema.items()}
    if schema.get("type") == "object" and "properties" in schema:
        required = list(schema.get("required", []))
        if all_optional:
            out["required"] = list(schema["properties"])
        else:
            out["properties"] = {k: v for k, v in out["properties"].items() if k in required}
        out["additionalProperties"] = False
    return out


def normalize(value: Any, schema: dict[str, Any]) -> Any:
    """`value` with date-times parsed, so that equal instants compare equal."""
    from dateutil.parser import isoparse

    if schema.get("format") == "date-time" and isinstance(value, str):
        return isoparse(value)
    if isinstance(value, dict):
        props = schema.get("properties", {})
        return {k: normalize(v, props.get(k, {})) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize(v, schema.get("items", {})) for v in value]
    return value


def named_schemas() -> dict[str, dict[str, Any]]:
    """Every named schema, by the generated model class it becomes."""
    return schemas()


def model_class(name: str) -> Any:
    return getattr(importlib.import_module("magic_hour_client.models"), name)
