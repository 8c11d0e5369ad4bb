"""The OpenAPI document as the source of test bodies.

Test fixtures build response bodies from the document's own examples, overriding only the
fields a test is about, so that a change to the document (a new required field with its
example, a removed optional one) breaks only the tests about that change. The API-change
drill points `MAGIC_HOUR_DOCUMENT` at a changed copy of the document.
"""

from __future__ import annotations

import copy
import functools
import os
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT_ENV = "MAGIC_HOUR_DOCUMENT"


def document_path() -> Path:
    return Path(os.environ.get(DOCUMENT_ENV) or ROOT / "openapi" / "face-detection.yaml")


@functools.cache
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(document_path().read_text(encoding="utf-8"))
    return loaded


def example(schema: str, **overrides: Any) -> dict[str, Any]:
    """A copy of the example of `components.schemas[schema]`, with `overrides` applied
    (an override of None removes the field)."""
    body: dict[str, Any] = copy.deepcopy(document()["components"]["schemas"][schema]["example"])
    for name, value in overrides.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    return body
