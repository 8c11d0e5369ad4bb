"""The OpenAPI document as the source of test bodies.

Test bodies are built from the document's schemas (`scripts.apispec._examples`): required
fields are filled from their own examples, or a valid value of their type, and `null`
where they are nullable; a test overrides only the fields it is about. So a change to the
document (a new required field, with examples only on its own properties; a removed
optional one) breaks only the tests about that change. Schemas are found by name: our
components by key, the hosted document's inline schemas by the title our overlay gives
them. The API-change drill points `MAGIC_HOUR_DOCUMENT` at a changed document.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import yaml

from scripts.apispec._examples import example_for, named_schemas

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT_ENV = "MAGIC_HOUR_DOCUMENT"


def document_path() -> Path:
    return Path(os.environ.get(DOCUMENT_ENV) or ROOT / "openapi" / "face-detection.yaml")


@functools.cache
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(document_path().read_text(encoding="utf-8"))
    return loaded


@functools.cache
def class_renames() -> dict[str, str]:
    """The generator's class_overrides: {the class name it would give: the one it gives}."""
    config = yaml.safe_load((ROOT / "openapi" / "generator-config.yaml").read_text("utf-8"))
    overrides = config.get("class_overrides") or {}
    return {old: str(new["class_name"]) for old, new in overrides.items()}


def schemas() -> dict[str, Any]:
    """Every named schema, by the name of the generated class it becomes."""
    return dict(named_schemas(document(), class_renames()))


def schema(name: str) -> dict[str, Any]:
    """The schema whose generated class is `name`."""
    try:
        return dict(schemas()[name])
    except KeyError:
        raise KeyError(f"the document has no schema for the model {name!r}") from None


def example(name: str, **overrides: Any) -> dict[str, Any]:
    """A valid body of the schema named `name`, built from the schema, with `overrides`
    applied (an override of None removes the field)."""
    body: dict[str, Any] = example_for(document(), schema(name))
    for field, value in overrides.items():
        if value is None:
            body.pop(field, None)
        else:
            body[field] = value
    return body
