"""Every difference between two documents, value by value, so that the report can name
what the structural rules do not: documentation (descriptions, summaries, examples,
links, code samples), differences no rule classifies, and upstream changes that the
overlay masks in the built document.

A difference is a *location* (the keys from the document's root to a value) whose value
differs, or that exists on one side only. Locations are grouped by *area*: an operation
(`POST /v1/face-detection`) or a top-level section (`info`, `components`, ...).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

__all__ = [
    "DOC_KEYWORDS",
    "Location",
    "area_of",
    "describe",
    "differences",
    "doc_keyword",
    "group",
]

Location = tuple[str | int, ...]
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
DOC_KEYWORDS = frozenset(
    {"description", "summary", "example", "examples", "x-codeSamples", "externalDocs", "links"}
)
# After these keywords comes a name (a property, a path, a status, ...), not a keyword.
_NAMED = frozenset(
    {
        "properties",
        "paths",
        "responses",
        "content",
        "headers",
        "schemas",
        "securitySchemes",
        "variables",
        "x-accepted-extensions",
    }
)
_ABSENT = object()


def _leaves(node: Any, at: Location = ()) -> Iterator[tuple[Location, Any]]:
    if isinstance(node, Mapping) and node:
        for key, value in node.items():
            yield from _leaves(value, (*at, str(key)))
    elif isinstance(node, list) and node:
        for index, value in enumerate(node):
            yield from _leaves(value, (*at, index))
    else:
        yield at, node


def differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Location]:
    """The locations whose values differ between `old` and `new`, in document order."""
    before, after = dict(_leaves(old)), dict(_leaves(new))
    return [
        at
        for at in dict.fromkeys([*before, *after])
        if before.get(at, _ABSENT) != after.get(at, _ABSENT)
    ]


def _is_name(at: Location, index: int) -> bool:
    if index == 0:
        return False
    before = at[index - 1]
    return before in _NAMED or (index >= 2 and at[index - 2] == "paths")


def doc_keyword(at: Location) -> str | None:
    """The documentation keyword the location is in (None: it is not documentation)."""
    for index, key in enumerate(at):
        if isinstance(key, str) and key in DOC_KEYWORDS and not _is_name(at, index):
            return key
    return None


def area_of(at: Location) -> tuple[str, Location]:
    """The area a location is in, and the rest of the location inside it."""
    if len(at) >= 3 and at[0] == "paths" and at[2] in METHODS:
        return f"{str(at[2]).upper()} {at[1]}", at[3:]
    if len(at) >= 2 and at[0] == "paths":
        return f"path {at[1]}", at[2:]
    return (str(at[0]) if at else "the document"), at[1:]


def describe(rest: Location, operation: Mapping[str, Any] | None = None) -> str:
    """A short name for a location inside its area: `request body items[].extension
    description`, `422 response message example`, `x-codeSamples (JavaScript)`."""
    words: list[str] = []
    name = ""
    index = 0
    while index < len(rest):
        key = rest[index]
        if key == "requestBody":
            words.append("request body")
        elif key == "responses" and index + 1 < len(rest):
            index += 1
            words.append(f"{rest[index]} response")
        elif key == "parameters" and index + 1 < len(rest):
            index += 1
            words.append(f"parameter {_parameter_name(operation, rest[index])}")
        elif key == "properties" and index + 1 < len(rest):
            index += 1
            name = f"{name}.{rest[index]}" if name else str(rest[index])
        elif key == "items":
            name += "[]"
        elif key in ("content", "schema") or (index and rest[index - 1] == "content"):
            pass
        elif key == "x-codeSamples":
            language = _sample_language(operation, rest[index + 1 : index + 2])
            words += [name] if name else []
            return " ".join([*words, f"x-codeSamples{language}"])
        elif isinstance(key, str):
            words += [name] if name else []
            name = ""
            words.append(key)
            if key in DOC_KEYWORDS:
                break
        index += 1
    if name:
        words.append(name)
    return " ".join(words) or "(the whole area)"


def _parameter_name(operation: Mapping[str, Any] | None, index: Any) -> str:
    try:
        return repr(str(operation["parameters"][index]["name"]))  # type: ignore[index]
    except (KeyError, IndexError, TypeError):
        return f"#{index}"


def _sample_language(operation: Mapping[str, Any] | None, index: Location) -> str:
    try:
        return f" ({operation['x-codeSamples'][index[0]]['lang']})"  # type: ignore[index]
    except (KeyError, IndexError, TypeError):
        return ""


def group(locations: Iterable[Location], document: Mapping[str, Any]) -> dict[str, list[str]]:
    """The locations by area, each area's locations described once, in document order."""
    grouped: dict[str, dict[str, None]] = {}
    for at in locations:
        area, rest = area_of(at)
        operation = _operation(document, at)
        grouped.setdefault(area, {})[describe(rest, operation)] = None
    return {area: list(names) for area, names in grouped.items()}


def _operation(document: Mapping[str, Any], at: Location) -> Mapping[str, Any] | None:
    if len(at) >= 3 and at[0] == "paths":
        operation = document.get("paths", {}).get(at[1], {}).get(at[2])
        return operation if isinstance(operation, Mapping) else None
    return None
