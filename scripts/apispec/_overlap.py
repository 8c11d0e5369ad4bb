"""Where the upstream document defines what an overlay action adds or changes.

The overlay wins in the built document, so an upstream definition under an overlay
action is invisible there: had upstream given a field our overlay adds another type, the
SDK would misread the real API without a word. This finds every such place, so the
report can name the ones that are new, or whose upstream definition changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import jsonpath_rfc9535 as jsonpath

from ._overlay import check_overlay

__all__ = ["Overlap", "overlaps"]

# Maps of named things an action adds into: an overlap is judged one level inside them
# (a property, a schema, a header as a whole), elsewhere at the key the action sets.
_CONTAINERS = frozenset(
    {"properties", "schemas", "headers", "responses", "content", "paths", "links", "components"}
)


@dataclass(frozen=True)
class Overlap:
    action: int  # the overlay action's number, from 1
    location: tuple[str | int, ...]  # in the upstream document
    upstream: Any
    overlay: Any

    @property
    def same(self) -> bool:
        return _canonical(self.upstream) == _canonical(self.overlay)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def overlaps(upstream: Mapping[str, Any], overlay: Mapping[str, Any]) -> list[Overlap]:
    """Each value an `update` action sets that the upstream document already has, by the
    location it has in the upstream document (before any action)."""
    found: list[Overlap] = []
    for number, action in enumerate(check_overlay(overlay), 1):
        if action.get("remove"):
            continue
        try:
            nodes = jsonpath.find(action["target"], dict(upstream))
        except jsonpath.JSONPathError:
            continue
        for node in nodes:
            found += _within(number, tuple(node.location), node.value, action["update"])
    return found


def _within(number: int, at: tuple[str | int, ...], node: Any, update: Any) -> Iterator[Overlap]:
    if isinstance(node, list):
        # An update appended to an array: a parameter with the same name and place.
        for index, item in enumerate(node):
            if (
                isinstance(item, Mapping)
                and isinstance(update, Mapping)
                and "name" in update
                and (item.get("name"), item.get("in")) == (update.get("name"), update.get("in"))
            ):
                yield Overlap(number, (*at, index), item, update)
        return
    if not isinstance(node, Mapping) or not isinstance(update, Mapping):
        return
    for key, value in update.items():
        if key not in node:
            continue
        if key in _CONTAINERS and isinstance(node[key], Mapping) and isinstance(value, Mapping):
            yield from _within(number, (*at, key), node[key], value)
        else:
            yield Overlap(number, (*at, key), node[key], value)
