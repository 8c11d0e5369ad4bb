"""Bodies built from schemas: what tests and the reference docs' examples are made of."""

from __future__ import annotations

from typing import Any

from scripts.apispec._examples import example_for, named_schemas

DOCUMENT: dict[str, Any] = {
    "components": {"schemas": {"Box": {"type": "object", "required": ["x"],
                                       "properties": {"x": {"type": "integer"}}}}},
    "paths": {},
}  # fmt: skip


def test_required_fields_from_their_examples_or_their_type_optional_ones_left_out() -> None:
    schema = {
        "type": "object",
        "required": ["id", "n", "when", "status", "box", "faces", "error"],
        "properties": {
            "id": {"type": "string", "example": "uuid-example"},
            "n": {"type": "integer"},
            "when": {"type": "string", "format": "date-time"},
            "status": {"type": "string", "enum": ["queued", "complete"]},
            "box": {"$ref": "#/components/schemas/Box"},
            "faces": {"type": "array", "items": {"type": "object", "required": ["path"],
                                                 "properties": {"path": {"type": "string"}}}},
            "error": {"type": "object", "nullable": True, "required": ["code"],
                      "properties": {"code": {"type": "string", "example": "x"}}},
            "progress": {"type": "number", "example": 1},
        },
    }  # fmt: skip
    assert example_for(DOCUMENT, schema) == {
        "id": "uuid-example",
        "n": 0,
        "when": "2024-07-25T16:56:21.932Z",
        "status": "queued",
        "box": {"x": 0},
        "faces": [{"path": "string"}],
        "error": None,
    }
    assert example_for(DOCUMENT, schema, optional=True)["progress"] == 1


def test_schemas_are_named_as_the_generator_names_their_classes() -> None:
    document = {
        "paths": {"/t": {"get": {"responses": {"200": {"content": {"application/json": {
            "schema": {"title": "Task", "type": "object", "properties": {
                "status": {"type": "string", "enum": ["a"], "title": "Status"},
                "kind": {"type": "string", "enum": ["b"]},
                "faces": {"type": "array", "items": {"title": "Face", "type": "object",
                                                     "properties": {}}},
            }}}}}}}}},
        "components": {"schemas": {"Error": {"type": "object"}}},
    }  # fmt: skip
    names = named_schemas(document, {"TaskKind": "Kind"})
    assert sorted(names) == ["Error", "Face", "Kind", "Task", "TaskStatus"]
    assert names["TaskStatus"]["enum"] == ["a"]
