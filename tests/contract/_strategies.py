"""Hypothesis strategies for the JSON Schema subset an OpenAPI 3.0 document of this kind uses.

Small on purpose: object, array, string (pattern, uri, date-time), number (bounds,
multipleOf), integer, boolean and enum, which is all the document has. A keyword it
does not know raises, so a spec change cannot quietly make the tests generate less.
"""

from __future__ import annotations

import math
from datetime import UTC
from typing import Any

from hypothesis import strategies as st
from magic_hour_server.api._schema import python_pattern

_KNOWN = {
    "type", "properties", "required", "additionalProperties", "items", "minItems",
    "maxItems", "enum", "pattern", "format", "minimum", "maximum", "multipleOf",
    "default", "description", "example", "nullable", "title",
}  # fmt: skip

_JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=8)


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    # Specification extensions (`x-...`) annotate a schema; they constrain no value.
    unknown = {key for key in schema if not key.startswith("x-")} - _KNOWN
    if unknown:
        raise NotImplementedError(f"no strategy for schema keywords {sorted(unknown)}")
    if schema.get("nullable"):
        return st.none() | from_schema({k: v for k, v in schema.items() if k != "nullable"})
    if isinstance(schema.get("type"), list) and "null" in schema["type"]:  # nullable, resolved
        (kind,) = [t for t in schema["type"] if t != "null"]
        enum = [v for v in schema.get("enum", []) if v is not None]
        rest = {**schema, "type": kind, **({"enum": enum} if enum else {})}
        return st.none() | from_schema(rest)
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "object":
        return _object(schema)
    if kind == "array":
        return st.lists(
            from_schema(schema["items"]),
            min_size=schema.get("minItems", 0),
            max_size=schema.get("maxItems", 4),
        )
    if kind == "string":
        return _string(schema)
    if kind == "integer":
        return st.integers(min_value=schema.get("minimum"), max_value=schema.get("maximum"))
    if kind == "number":
        return _number(schema)
    if kind == "boolean":
        return st.booleans()
    raise NotImplementedError(f"no strategy for schema type {kind!r}")


def _object(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    properties: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    fixed = {k: from_schema(v) for k, v in properties.items() if k in required}
    optional = {k: from_schema(v) for k, v in properties.items() if k not in required}
    base = st.fixed_dictionaries(fixed, optional=optional)
    if schema.get("additionalProperties", True) is False:
        return base
    extra_keys = st.text(min_size=1, max_size=8).filter(lambda k: k not in properties)
    extras = st.dictionaries(extra_keys, _JSON_SCALARS, max_size=2)
    return st.tuples(base, extras).map(lambda pair: {**pair[1], **pair[0]})


def _string(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    fmt = schema.get("format")
    if fmt == "date-time":
        return st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat())
    if fmt == "uri":
        path = st.from_regex(r"[a-z0-9/._-]{0,20}", fullmatch=True)
        return st.builds(lambda p: f"https://storage.example/{p}", path)
    if "pattern" in schema:
        return st.from_regex(python_pattern(schema["pattern"]))
    return st.text()


def _number(schema: dict[str, Any]) -> st.SearchStrategy[float]:
    low, high = schema.get("minimum"), schema.get("maximum")
    step = schema.get("multipleOf")
    if step is not None:
        first = math.ceil(low / step) if low is not None else -1000
        last = math.floor(high / step) if high is not None else 1000
        # Half as k * step (float noise included), half as the shortest decimal literal.
        return st.integers(first, last).flatmap(
            lambda k: st.sampled_from([k * step, round(k * step, 10)])
        )
    return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False)
