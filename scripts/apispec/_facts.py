"""Facts the hosted document states only in prose, made data at build time.

The upload operation says which file extensions the API takes only in words: its
description lists them per asset type ("**Valid file extensions per asset type**:" then
one "- type: a, b, c" line each), and the `extension` field's description lists them all
again ("Possible extensions are a,b,c"). Both are parsed strictly. The lists per type go
into the built document as `x-accepted-extensions` on the `extension` field, and from
there into `magic_hour_client.document_facts`, which the SDK reads: nobody keeps a copy by
hand. A description that no longer has its shape, or two lists that disagree, stop the
build (exit 2) naming the description.

Only the upload extensions are facts of this kind in the operations we serve: the other
descriptions state no sizes, durations or resolutions, and the face file name
(`<frame>-<index>.png`) is shown only in examples, which the SDK does not rely on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._errors import SpecError

__all__ = [
    "EXTENSIONS_KEY",
    "accepted_extensions",
    "annotate",
    "parse_upload_extensions",
    "render_facts_module",
]

EXTENSIONS_KEY = "x-accepted-extensions"
UPLOAD_PATH, UPLOAD_METHOD = "/v1/files/upload-urls", "post"
_BLOCK = re.compile(r"\*\*Valid file extensions per asset type\*\*:\n((?:- [a-z0-9]+: [^\n]*\n?)+)")
_LINE = re.compile(r"^- ([a-z0-9]+): ([a-z0-9]+(?:, [a-z0-9]+)*)$")
_FLAT = re.compile(r"Possible extensions are ([a-z0-9]+(?:,[a-z0-9]+)*)(?:\.|$)")
_WHERE_OPERATION = f"the description of POST {UPLOAD_PATH}"
_WHERE_FIELD = f"the description of POST {UPLOAD_PATH}'s items[].extension"


def _operation(document: Mapping[str, Any]) -> Mapping[str, Any]:
    try:
        operation: Mapping[str, Any] = document["paths"][UPLOAD_PATH][UPLOAD_METHOD]
    except (KeyError, TypeError):
        raise SpecError(f"the document has no POST {UPLOAD_PATH}") from None
    return operation


def _extension_field(operation: Mapping[str, Any]) -> dict[str, Any]:
    try:
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        field: dict[str, Any] = body["properties"]["items"]["items"]["properties"]["extension"]
    except (KeyError, TypeError):
        raise SpecError(
            f"POST {UPLOAD_PATH} has no items[].extension field in its JSON request body"
        ) from None
    return field


def parse_upload_extensions(document: Mapping[str, Any]) -> dict[str, list[str]]:
    """The extensions the API takes, by asset type, as the upload operation's prose says."""
    operation = _operation(document)
    description = str(operation.get("description", ""))
    block = _BLOCK.search(description)
    if block is None:
        raise SpecError(
            f"{_WHERE_OPERATION} no longer has its '**Valid file extensions per asset type**:' "
            "list ('- type: ext, ext' lines): read the new wording and update "
            "scripts/apispec/_facts.py"
        )
    by_type: dict[str, list[str]] = {}
    for line in block.group(1).strip("\n").split("\n"):
        match = _LINE.match(line)
        if match is None or match.group(1) in by_type:
            raise SpecError(
                f"{_WHERE_OPERATION}: the extension list line {line!r} does not read "
                "'- type: ext, ext, ...' (lower-case letters and digits, once per type)"
            )
        by_type[match.group(1)] = match.group(2).split(", ")
    field = _extension_field(operation)
    flat = _FLAT.search(str(field.get("description", "")))
    if flat is None:
        raise SpecError(
            f"{_WHERE_FIELD} no longer reads 'Possible extensions are a,b,c': read the new "
            "wording and update scripts/apispec/_facts.py"
        )
    listed = set(flat.group(1).split(","))
    per_type = {name for names in by_type.values() for name in names}
    if listed != per_type:
        only_flat = ", ".join(sorted(listed - per_type)) or "none"
        only_types = ", ".join(sorted(per_type - listed)) or "none"
        raise SpecError(
            f"{_WHERE_FIELD} and {_WHERE_OPERATION} list different extensions "
            f"(only in the field's: {only_flat}; only in the operation's: {only_types})"
        )
    return by_type


def annotate(built: dict[str, Any], facts: Mapping[str, list[str]]) -> None:
    """Write the extensions into the built document, on the `extension` field."""
    _extension_field(_operation(built))[EXTENSIONS_KEY] = {k: list(v) for k, v in facts.items()}


def accepted_extensions(built: Mapping[str, Any]) -> dict[str, list[str]] | None:
    """What `annotate` wrote, or None for a document built before it existed."""
    try:
        value = _extension_field(_operation(built)).get(EXTENSIONS_KEY)
    except SpecError:
        return None
    return {str(k): [str(e) for e in v] for k, v in value.items()} if value else None


def render_facts_module(facts: Mapping[str, list[str]]) -> str:
    """`magic_hour_client/document_facts.py`, formatted as ruff formats it."""
    lines = [
        '"""Facts the API document states in prose, as data: written by the build',
        "(scripts/apispec/_facts.py) from `x-accepted-extensions` in openapi/face-detection.yaml.",
        'Never edit it: `make generate` writes it and `make check-generated` checks it."""',
        "",
        "UPLOAD_EXTENSIONS: dict[str, tuple[str, ...]] = {",
    ]
    for kind, names in facts.items():
        lines.append(f'    "{kind}": (')
        lines += [f'        "{name}",' for name in names]
        lines.append("    ),")
    lines += [
        "}",
        '"""The file extensions the API takes for an upload, by asset type, in the',
        "document's order.",
        '"""',
        "",
    ]
    return "\n".join(lines)
