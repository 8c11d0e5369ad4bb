"""The change report's classification, one rule at a time (after oasdiff's checks)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from scripts.apispec._changes import compare
from scripts.apispec._levels import BREAKING, COMPATIBLE, REVIEW


def document() -> dict[str, Any]:
    task = {
        "title": "FaceDetection",
        "type": "object",
        "required": ["id", "status"],
        "properties": {
            "id": {"type": "string"},
            "status": {"type": "string", "enum": ["queued", "complete"]},
            "progress": {"type": "number"},
        },
    }
    body = {
        "title": "FaceDetectionRequest",
        "type": "object",
        "required": ["assets"],
        "properties": {
            "assets": {"type": "object"},
            "confidence_score": {"type": "number", "minimum": 0, "maximum": 1},
        },
    }
    return {
        "openapi": "3.0.2",
        "paths": {
            "/v1/face-detection": {"post": {
                "operationId": "create",
                "requestBody": {"required": True,
                                "content": {"application/json": {"schema": body}}},
                "responses": {"200": {"description": "ok"}},
            }},
            "/v1/face-detection/{id}": {"get": {
                "operationId": "get",
                "parameters": [{"name": "id", "in": "path", "required": True,
                                "schema": {"type": "string"}}],
                "responses": {"200": {"description": "ok",
                                      "content": {"application/json": {"schema": task}}}},
            }},
        },
    }  # fmt: skip


def task(d: dict[str, Any]) -> dict[str, Any]:
    get = d["paths"]["/v1/face-detection/{id}"]["get"]
    schema: dict[str, Any] = get["responses"]["200"]["content"]["application/json"]["schema"]
    return schema


def body(d: dict[str, Any]) -> dict[str, Any]:
    post = d["paths"]["/v1/face-detection"]["post"]
    schema: dict[str, Any] = post["requestBody"]["content"]["application/json"]["schema"]
    return schema


def add_required_nullable_error(d: dict[str, Any]) -> None:
    task(d)["properties"]["error"] = {"type": "object", "nullable": True}
    task(d)["required"].append("error")


CASES: list[tuple[str, Callable[[dict[str, Any]], Any], str, str]] = [
    ("required nullable response field", add_required_nullable_error, COMPATIBLE, "send"),
    ("new response enum value",
     lambda d: task(d)["properties"]["status"]["enum"].append("canceled"),
     REVIEW, "report 'canceled'"),
    ("optional request field",
     lambda d: body(d)["properties"].update(max_faces={"type": "integer"}), COMPATIBLE, "honour"),
    ("required request field", lambda d: (body(d)["properties"].update(x={"type": "string"}),
                                          body(d)["required"].append("x")), BREAKING, ""),
    ("response field removed", lambda d: task(d)["properties"].pop("progress"), BREAKING, ""),
    ("response field became optional", lambda d: task(d)["required"].remove("status"),
     BREAKING, ""),
    ("response type changed", lambda d: task(d)["properties"]["id"].update(type="integer"),
     BREAKING, ""),
    ("response field may be null", lambda d: task(d)["properties"]["id"].update(nullable=True),
     BREAKING, ""),
    ("request maximum tightened",
     lambda d: body(d)["properties"]["confidence_score"].update(maximum=0.9), BREAKING, ""),
    ("request maximum relaxed",
     lambda d: body(d)["properties"]["confidence_score"].update(maximum=2), COMPATIBLE, ""),
    ("operation removed", lambda d: d["paths"].pop("/v1/face-detection"), BREAKING, ""),
    ("required query parameter", lambda d: d["paths"]["/v1/face-detection/{id}"]["get"]
     ["parameters"].append({"name": "q", "in": "query", "required": True}), BREAKING, ""),
    ("optional header parameter", lambda d: d["paths"]["/v1/face-detection/{id}"]["get"]
     ["parameters"].append({"name": "Prefer", "in": "header"}), COMPATIBLE, "honour"),
]  # fmt: skip


@pytest.mark.parametrize(("_name", "change", "level", "server"), CASES, ids=[c[0] for c in CASES])
def test_each_change_is_classified(
    _name: str, change: Callable[[dict[str, Any]], Any], level: str, server: str
) -> None:
    old = document()
    new = copy.deepcopy(old)
    change(new)
    report = compare(old, new)
    assert [c.level for c in report.changes] == [level], report.render()
    assert server in (report.changes[0].server or "")


def test_no_change_no_report_and_the_rendered_report_names_each_change() -> None:
    assert compare(document(), document()).changes == []
    new = document()
    add_required_nullable_error(new)
    task(new)["properties"]["status"]["enum"].append("canceled")
    text = compare(document(), new).render()
    assert "GET /v1/face-detection/{id} → 200 FaceDetection.error: required property added" in text
    assert "FaceDetection.status: new value 'canceled'" in text
    assert "The local server must now:" in text
    assert "0 breaking for callers of this SDK, 1 to review, 1 compatible, 0 documentation." in text
