"""A valid value for a schema, built from the schema itself.

Required properties are filled from their own `example`, else their `default`, else their
first enum value, else a plain value of their type; a required nullable property is
`null`; optional properties are left out; an array holds one item built the same way.
Test bodies and the reference docs' examples come from here, so an upstream change (a new
required field with examples only on its own properties, say) changes them with it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["example_for", "find_schema", "named_schemas"]

PLAIN = {"string": "string", "integer": 0, "number": 0.0, "boolean": False}
FORMATS = {
    "date-time": "2024-07-25T16:56:21.932Z",
    "date": "2024-07-25",
    "uri": "https://example.com/",
    "uuid": "00000000-0000-0000-0000-000000000000",
}


def resolve(document: Mapping[str, Any], schema: Any) -> Mapping[str, Any]:
    """`schema` with its local `$ref` followed ({} for a missing, remote or circular one)."""
    seen: set[str] = set()
    while isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str):
        ref = schema["$ref"]
        if ref in seen or not ref.startswith("#/"):
            return {}
        seen.add(ref)
        node: Any = document
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")  # JSON Pointer escapes
            node = node.get(part, {}) if isinstance(node, Mapping) else {}
        schema = node
    return schema if isinstance(schema, Mapping) else {}


def _walk(node: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(node, Mapping):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def named_schemas(
    document: Mapping[str, Any], renames: Mapping[str, str] | None = None
) -> dict[str, Mapping[str, Any]]:
    """Every schema with a name, as the generator names its class: components.schemas by
    key, inline objects by `title`, an inline enum by its model's name followed by its own
    title (or property name); `renames` maps such names to others (class_overrides)."""
    named: dict[str, Mapping[str, Any]] = {}

    def visit(node: Any, parent: str | None, prop: str | None) -> None:
        if isinstance(node, list):
            for value in node:
                visit(value, parent, None)
            return
        if not isinstance(node, Mapping):
            return
        title = node.get("title")
        if isinstance(node.get("enum"), list) and parent:
            named.setdefault(parent + _pascal(str(title or prop or "")), node)
        elif isinstance(title, str) and ("properties" in node or node.get("type") == "object"):
            named.setdefault(title, node)
            parent = title
        for key, value in node.items():
            if key == "properties" and isinstance(value, Mapping):
                for name, schema in value.items():
                    visit(schema, parent, name)
            elif key == "items":
                visit(value, parent, prop)
            elif key not in ("example", "enum", "default"):
                visit(value, parent, None)

    visit(document.get("paths", {}), None, None)
    named.update(document.get("components", {}).get("schemas", {}))
    for old, new in (renames or {}).items():
        if old in named:
            named[new] = named.pop(old)
    return named


def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.replace("-", "_").split("_"))


def find_schema(document: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    try:
        return named_schemas(document)[name]
    except KeyError:
        raise KeyError(f"the document has no schema named {name!r}") from None


def example_for(
    document: Mapping[str, Any], schema: Any, *, optional: bool = False, depth: int = 0
) -> Any:
    """A value valid for `schema`; with `optional=True` optional properties that have an
    example are included too (the reference docs show them)."""
    schema = resolve(document, schema)
    if depth > 12:
        return None
    for key in ("example", "default"):
        if key in schema and schema.get("type") not in ("object", "array"):
            return schema[key]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    kind = schema.get("type") or ("object" if "properties" in schema else None)
    if kind == "object":
        body: dict[str, Any] = {}
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            prop = resolve(document, prop)
            if name in required:
                if prop.get("nullable"):
                    body[name] = None
                else:
                    body[name] = example_for(document, prop, optional=optional, depth=depth + 1)
            elif optional and _shown(prop):
                body[name] = example_for(document, prop, optional=optional, depth=depth + 1)
        return body
    if kind == "array":
        item = example_for(document, schema.get("items", {}), optional=optional, depth=depth + 1)
        return [item] * max(1, int(schema.get("minItems", 1)))
    if kind == "string" and schema.get("format") in FORMATS:
        return FORMATS[schema["format"]]
    return PLAIN.get(str(kind), "string") if kind else None


def _shown(prop: Mapping[str, Any]) -> bool:
    return "example" in prop or "default" in prop or prop.get("type") == "object"
