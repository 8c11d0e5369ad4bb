"""Apply an OpenAPI Overlay 1.0.0 document (https://spec.openapis.org/overlay/v1.0.0).

Each action's `target` is an RFC 9535 JSONPath (evaluated with `jsonpath-rfc9535`) over
the document as the previous actions left it. `remove: true` deletes every node the
target selects; `update` merges into each: an object is merged key by key, recursively
for objects inside objects, any other value replacing what was there; a selected array
gets the update appended. An action whose target selects nothing is an error, never a
silent no-op: an upstream change must not quietly drop one of our additions.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import jsonpath_rfc9535 as jsonpath

from ._errors import SpecError

__all__ = ["apply_overlay", "check_overlay", "merge"]


def check_overlay(overlay: Any) -> list[dict[str, Any]]:
    """The overlay's actions, after checking its shape."""
    if not isinstance(overlay, Mapping) or not str(overlay.get("overlay", "")).startswith("1."):
        raise SpecError("the overlay is not an OpenAPI Overlay 1.x document ('overlay: 1.0.0')")
    actions = overlay.get("actions")
    if not isinstance(actions, list) or not actions:
        raise SpecError("the overlay has no actions")
    for number, action in enumerate(actions, 1):
        if not isinstance(action, Mapping) or not isinstance(action.get("target"), str):
            raise SpecError(f"overlay action {number} has no target")
        if ("update" in action) == bool(action.get("remove")):
            raise SpecError(f"overlay action {number} must have either update or remove: true")
    return [dict(action) for action in actions]


def apply_overlay(document: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `document` with the overlay's actions applied in order."""
    result: dict[str, Any] = copy.deepcopy(dict(document))
    for number, action in enumerate(check_overlay(overlay), 1):
        target = action["target"]
        try:
            nodes = jsonpath.find(target, result)
        except jsonpath.JSONPathError as exc:
            raise SpecError(f"overlay action {number}: bad target {target!r}: {exc}") from None
        if not nodes:
            why = action.get("description", "").strip().splitlines()
            raise SpecError(
                f"overlay action {number} ({target}) matches nothing in the upstream document"
                + (f" -- it was there to: {why[0]}" if why else "")
            )
        if action.get("remove"):
            # Remove deepest and last first, so that earlier locations stay valid.
            for node in sorted(nodes, key=lambda n: _order(n.location), reverse=True):
                _remove(result, node.location)
        else:
            for node in nodes:
                _update(result, node.location, action["update"], number)
    return result


def merge(target: Any, update: Any) -> Any:
    """`update` merged into `target` (a new value; neither is changed)."""
    if isinstance(target, Mapping) and isinstance(update, Mapping):
        merged = dict(target)
        for key, value in update.items():
            merged[key] = merge(target[key], value) if key in target else copy.deepcopy(value)
        return merged
    return copy.deepcopy(update)


def _order(location: tuple[str | int, ...]) -> list[tuple[int, int, str]]:
    return [(0, k, "") if isinstance(k, int) else (1, 0, k) for k in location]


def _parent(document: Any, location: tuple[str | int, ...]) -> Any:
    node = document
    for key in location[:-1]:
        node = node[key]
    return node


def _remove(document: dict[str, Any], location: tuple[str | int, ...]) -> None:
    if not location:
        raise SpecError("an overlay action cannot remove the whole document")
    del _parent(document, location)[location[-1]]


def _update(
    document: dict[str, Any], location: tuple[str | int, ...], update: Any, number: int
) -> None:
    node = _parent(document, location)[location[-1]] if location else document
    if isinstance(node, list):
        node.append(copy.deepcopy(update))
        return
    if not isinstance(node, Mapping) or not isinstance(update, Mapping):
        raise SpecError(f"overlay action {number}: update needs an object or array target")
    merged = merge(node, update)
    if location:
        _parent(document, location)[location[-1]] = merged
    else:
        document.clear()
        document.update(merged)
