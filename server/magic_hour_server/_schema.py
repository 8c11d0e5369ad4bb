"""The OpenAPI document as data, and a JSON Schema validator that gets `multipleOf` right.

`jsonschema` decides `multipleOf` by float division, so it rejects 0.15, 0.3, 0.35,
0.6, 0.7 and 0.95 as multiples of 0.05 (0.15 / 0.05 == 2.9999999999999996). Every
validator of this project's requests, in the server and in the tests, uses
`is_multiple_of` instead.
"""

from __future__ import annotations

import copy
import math
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


def extend_validator(base: Any) -> Any:
    """`base` (a jsonschema validator class) with the float-safe `multipleOf`."""
    from jsonschema import validators

    return validators.extend(base, {"multipleOf": _multiple_of_keyword})  # type: ignore[no-untyped-call]


@cache
def load_document() -> dict[str, Any]:
    """The OpenAPI document this package serves, parsed."""
    text = resources.files(__package__).joinpath("openapi.yaml").read_text(encoding="utf-8")
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
