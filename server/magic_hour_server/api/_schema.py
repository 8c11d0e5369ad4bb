"""The OpenAPI document as data, and a JSON Schema validator that gets two keywords right.

`jsonschema` decides `multipleOf` by float division, so it rejects 0.15, 0.3, 0.35,
0.6, 0.7 and 0.95 as multiples of 0.05 (0.15 / 0.05 == 2.9999999999999996). Every
validator of this project's requests, in the server and in the tests, uses
`is_multiple_of` instead.

It also runs `pattern` with Python's `re`, where `$` matches before a final newline, so
`"png\\n"` passes `^[a-z0-9]+$`. JSON Schema patterns are ECMA-262 regular expressions,
where `$` is the end of the input: `python_pattern` translates it.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

import yaml

# How far from a whole number a quotient may be and still count as one: generous
# for float noise (3.0000000000000004), far below any real step (0.33 / 0.05 = 6.6).
_QUOTIENT_TOLERANCE = 1e-9


def is_multiple_of(value: float, step: float) -> bool:
    """True when `value` is a whole multiple of `step`, up to float rounding."""
    if isinstance(value, bool) or not math.isfinite(value):
        return False
    quotient = value / step
    if not math.isfinite(quotient):
        return False
    return abs(quotient - round(quotient)) <= _QUOTIENT_TOLERANCE * max(1.0, abs(quotient))


def _multiple_of_keyword(
    validator: Any, step: float, instance: Any, schema: dict[str, Any]
) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "number"):
        return
    if not is_multiple_of(instance, step):
        yield ValidationError(f"{instance!r} is not a multiple of {step}")


@cache
def python_pattern(pattern: str) -> str:
    """The ECMA-262 `pattern` for Python's `re`: `$` outside a class becomes `\\Z`."""
    out: list[str] = []
    escaped = in_class = False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == "$" and not in_class:
            char = r"\Z"
        out.append(char)
    return "".join(out)


def _pattern_keyword(
    validator: Any, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if validator.is_type(instance, "string") and not re.search(python_pattern(pattern), instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def extend_validator(base: Any) -> Any:
    """`base` (a jsonschema validator class) with the float-safe `multipleOf` and an
    ECMA-262 `pattern`."""
    from jsonschema import validators

    keywords = {"multipleOf": _multiple_of_keyword, "pattern": _pattern_keyword}
    return validators.extend(base, keywords)  # type: ignore[no-untyped-call]


@cache
def _request_validator_class() -> Any:
    from jsonschema import Draft4Validator

    return extend_validator(Draft4Validator)


def request_validator(schema: dict[str, Any]) -> Any:
    """The validator requests are checked with, for `schema` (refs resolved): Draft 4, as
    connexion's, with the float-safe `multipleOf` and an ECMA-262 `pattern`."""
    from jsonschema import Draft4Validator

    return _request_validator_class()(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


@cache
def load_document() -> dict[str, Any]:
    """The OpenAPI document this package serves, parsed."""
    text = resources.files("magic_hour_server").joinpath("openapi.yaml").read_text(encoding="utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    return document


def resolve(node: Any, document: dict[str, Any]) -> Any:
    """`node` with every local `$ref` replaced by what it points to (the spec has no cycles)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target: Any = document
            for part in ref[2:].split("/"):
                target = target[part]
            return resolve(copy.deepcopy(target), document)
        return {key: resolve(value, document) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve(item, document) for item in node]
    return node
