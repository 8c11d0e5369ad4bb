"""Lenient reading of API responses: a required field that may be null, and is missing,
reads as None.

A newer document can make a nullable field required (the hosted API's `error` object is
one) before every server sends it; the generated `from_dict` would fail on the missing
key. Fields that cannot be null stay strict: without them the answer is not what the
document promises, and the caller gets `APIResponseValidationError`.
"""

from __future__ import annotations

import re
from typing import Any

import attrs
import magic_hour_client.models as models

__all__ = ["fill_missing_nullable"]

_LIST = re.compile(r"^list\[(\w+)\]")
_MODEL = re.compile(r"^(\w+)\b")


def fill_missing_nullable(model: type[Any], body: Any, depth: int = 0) -> Any:
    """`body` with None for every missing required nullable field of `model`, in nested
    models and lists of models too."""
    if not isinstance(body, dict) or not attrs.has(model) or depth > 8:
        return body
    filled = dict(body)
    for field in attrs.fields(model):
        if not field.init:
            continue
        key = field.name.rstrip("_")
        kind = str(field.type)
        if key not in filled:
            if field.default is attrs.NOTHING and "None" in kind.split(" | "):
                filled[key] = None
            continue
        inner = _LIST.match(kind)
        if inner and isinstance(filled[key], list):
            cls = getattr(models, inner.group(1), None)
            if cls is not None:
                filled[key] = [fill_missing_nullable(cls, item, depth + 1) for item in filled[key]]
            continue
        named = _MODEL.match(kind)
        cls = getattr(models, named.group(1), None) if named else None
        if cls is not None and attrs.has(cls):
            filled[key] = fill_missing_nullable(cls, filled[key], depth + 1)
    return filled
