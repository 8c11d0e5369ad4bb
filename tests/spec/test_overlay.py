"""Applying an OpenAPI Overlay: merge, append, remove, and no silent no-ops."""

from __future__ import annotations

from typing import Any

import pytest

from scripts.apispec._errors import SpecError
from scripts.apispec._overlay import apply_overlay


def overlay(*actions: dict[str, Any]) -> dict[str, Any]:
    return {"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": list(actions)}


DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.2",
    "paths": {
        "/a": {"get": {"operationId": "a", "tags": ["Files"], "parameters": []}},
        "/b": {"post": {"operationId": "b", "tags": ["Files"]}},
    },
}


def test_update_merges_objects_recursively_and_replaces_other_values() -> None:
    result = apply_overlay(
        DOCUMENT,
        overlay({"target": "$.paths['/a'].get", "update": {"operationId": "get", "tags": ["x"],
                                                           "responses": {"200": {"d": 1}}}}),
    )  # fmt: skip
    assert result["paths"]["/a"]["get"] == {
        "operationId": "get",
        "tags": ["x"],
        "parameters": [],
        "responses": {"200": {"d": 1}},
    }
    assert DOCUMENT["paths"]["/a"]["get"]["operationId"] == "a"  # the input is not changed


def test_update_of_an_array_appends() -> None:
    result = apply_overlay(
        DOCUMENT, overlay({"target": "$.paths['/a'].get.parameters", "update": {"name": "Prefer"}})
    )
    assert result["paths"]["/a"]["get"]["parameters"] == [{"name": "Prefer"}]


def test_remove_deletes_every_match_and_later_actions_see_the_result() -> None:
    result = apply_overlay(
        DOCUMENT,
        overlay(
            {"target": "$.paths.*.*.tags", "remove": True},
            {"target": "$.paths.*[?@.operationId == 'b']", "update": {"tags": ["files"]}},
        ),
    )
    assert "tags" not in result["paths"]["/a"]["get"]
    assert result["paths"]["/b"]["post"]["tags"] == ["files"]


def test_an_action_that_matches_nothing_is_an_error_naming_it() -> None:
    with pytest.raises(SpecError, match=r"action 2 \(\$\.paths\['/gone'\]\.get\) matches nothing"):
        apply_overlay(
            DOCUMENT,
            overlay(
                {"target": "$.paths['/a'].get", "update": {"x-a": 1}},
                {"target": "$.paths['/gone'].get", "update": {"x-b": 1}, "description": "Why."},
            ),
        )


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"overlay": "2.0.0", "actions": []}, "not an OpenAPI Overlay 1.x"),
        ({"overlay": "1.0.0", "actions": []}, "no actions"),
        ({"overlay": "1.0.0", "actions": [{"update": {}}]}, "action 1 has no target"),
        ({"overlay": "1.0.0", "actions": [{"target": "$"}]}, "either update or remove"),
        ({"overlay": "1.0.0", "actions": [{"target": "$[", "remove": True}]}, "bad target"),
    ],
)
def test_a_malformed_overlay_is_one_clear_error(bad: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError, match=message):
        apply_overlay(DOCUMENT, bad)
