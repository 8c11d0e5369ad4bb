"""Reference docs, one page per resource, generated from the built document in the shape
of the official SDK's per-resource README: each operation's endpoint, parameters table,
sync and async examples, response type and example. A hand-written block between the
CUSTOM DOCS markers is kept as it is when a page is written again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._examples import example_for, resolve

__all__ = ["CUSTOM_END", "CUSTOM_START", "REFERENCE_DIR", "render_pages"]

REFERENCE_DIR = Path("docs") / "reference"
CUSTOM_START = "<!-- CUSTOM DOCS START -->"
CUSTOM_END = "<!-- CUSTOM DOCS END -->"
METHODS = ("get", "put", "post", "delete", "patch")

# operationId → the SDK call that sends it, and the page (resource) it is documented on.
SDK_CALLS = {
    "create": ("face_detection", "v1.face_detection.create"),
    "get": ("face_detection", "v1.face_detection.get"),
    "createUploadUrls": ("files", "v1.files.upload_urls.create"),
}
# Header parameters the SDK sends itself (long-polling); not a keyword of any call.
SDK_HEADERS = {"Prefer"}
GENERATED_MODELS = "../../generated/magic_hour_client/models"


def render_pages(document: Mapping[str, Any], existing: Mapping[str, str]) -> dict[str, str]:
    """{file name: page text} for every resource; `existing` holds the pages as they are
    now, whose custom blocks are kept."""
    pages: dict[str, list[str]] = {}
    for path, item in document["paths"].items():
        for method in METHODS:
            operation = item.get(method) if isinstance(item, Mapping) else None
            if not isinstance(operation, Mapping):
                continue
            op_id = str(operation.get("operationId"))
            resource, call = SDK_CALLS.get(op_id, (_tag(operation), f"v1.{_snake(op_id)}"))
            section = _operation(document, method, path, operation, call)
            pages.setdefault(resource, []).append(section)
    rendered: dict[str, str] = {}
    for resource, sections in pages.items():
        name = f"{resource}.md"
        custom = _custom_block(existing.get(name, ""))
        head = [f"# v1.{resource}", "", "## Module Functions", "", CUSTOM_START, custom, CUSTOM_END]
        rendered[name] = "\n".join([*head, "", *sections]).rstrip() + "\n"
    return rendered


def _tag(operation: Mapping[str, Any]) -> str:
    tags = operation.get("tags") or ["other"]
    return str(tags[0])


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _custom_block(page: str) -> str:
    start, end = page.find(CUSTOM_START), page.find(CUSTOM_END)
    if start < 0 or end < start:
        return ""
    return page[start + len(CUSTOM_START) : end].strip("\n")


def _one_line(text: Any) -> str:
    return " ".join(str(text or "").split()).replace("|", "\\|")


def _operation(
    document: Mapping[str, Any], method: str, path: str, operation: Mapping[str, Any], call: str
) -> str:
    anchor = call.rsplit(".", 1)[-1] if "upload_urls" not in call else "upload-urls-create"
    lines = [
        f'### {operation.get("summary", call)} <a name="{anchor}"></a>',
        "",
        str(operation.get("description", "")).strip(),
        "",
        f"**API Endpoint**: `{method.upper()} {path}`",
        "",
        "#### Parameters",
        "",
        "| Parameter | Required | Description | Example |",
        "| --------- | :------: | ----------- | ------- |",
    ]
    arguments: dict[str, Any] = {}
    for parameter in operation.get("parameters", []):
        parameter = resolve(document, parameter)
        if parameter.get("in") == "header" and parameter.get("name") in SDK_HEADERS:
            continue
        schema = resolve(document, parameter.get("schema", {}))
        value = parameter.get("example", example_for(document, schema))
        name = str(parameter["name"])
        if parameter.get("in") == "header":
            # A keyword argument named after the header; optional ones stay out of the
            # examples, which show what a call needs.
            name = name.replace("-", "_").lower()
            if not parameter.get("required"):
                lines.append(_row(name, False, parameter, value))
                continue
        arguments[name] = value
        lines.append(_row(name, parameter.get("required"), parameter, value))
    body = resolve(document, operation.get("requestBody", {}))
    schema = resolve(document, body.get("content", {}).get("application/json", {}).get("schema"))
    if schema:
        example = example_for(document, schema, optional=True)
        arguments.update(
            (name, example[name]) for name, _ in _required_first(schema) if name in example
        )
        lines += _body_rows(document, schema, example, depth=0)
    lines += ["", *_examples(call, arguments)]
    response = resolve(document, operation.get("responses", {}).get("200", {}))
    schema = resolve(
        document, response.get("content", {}).get("application/json", {}).get("schema")
    )
    if schema:
        title = str(schema.get("title", "object"))
        module = _snake(title)
        lines += [
            "#### Response",
            "",
            "##### Type",
            "",
            f"[{title}]({GENERATED_MODELS}/{module}.py)",
            "",
            "##### Example",
            "",
            "```python",
            json.dumps(example_for(document, schema), sort_keys=True),
            "```",
            "",
        ]
    return "\n".join(lines)


def _row(name: str, required: Any, schema: Mapping[str, Any], example: Any) -> str:
    mark = "✓" if required else "✗"
    return (
        f"| `{name}` | {mark} | {_one_line(schema.get('description'))} | "
        f"`{_one_line(json.dumps(example))}` |"
    )


def _body_rows(
    document: Mapping[str, Any], schema: Mapping[str, Any], example: Any, depth: int
) -> list[str]:
    rows: list[str] = []
    required = set(schema.get("required", []))
    for name, prop in _required_first(schema):
        prop = resolve(document, prop)
        label = name if depth == 0 else f"{'  ' * (depth - 1)}└─ {name}"
        value = example.get(name) if isinstance(example, Mapping) else None
        shown = value if value is not None else example_for(document, prop)
        rows.append(_row(label, name in required, prop, shown))
        if prop.get("type") == "object" or "properties" in prop:
            rows += _body_rows(document, prop, shown, depth + 1)
        elif prop.get("type") == "array":
            item = resolve(document, prop.get("items", {}))
            if "properties" in item:
                first = shown[0] if isinstance(shown, list) and shown else None
                rows += _body_rows(document, item, first, depth + 1)
    return rows


def _required_first(schema: Mapping[str, Any]) -> list[tuple[str, Any]]:
    required = set(schema.get("required", []))
    properties = list(schema.get("properties", {}).items())
    return sorted(properties, key=lambda item: item[0] not in required)


def _examples(call: str, arguments: Mapping[str, Any]) -> list[str]:
    args = ", ".join(f"{name}={_python(value)}" for name, value in arguments.items())
    blocks = []
    for title, client, prefix in (
        ("Synchronous Client", "Client", ""),
        ("Asynchronous Client", "AsyncClient", "await "),
    ):
        blocks += [
            f"#### {title}",
            "",
            "```python",
            f"from magic_hour import {client}",
            "from os import getenv",
            "",
            f'client = {client}(token=getenv("API_TOKEN"))',
            f"res = {prefix}client.{call}({args})",
            "```",
            "",
        ]
    return blocks


def _python(value: Any) -> str:
    """A JSON value as Python source, with double-quoted strings as the official docs."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_python(k)}: {_python(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_python(v) for v in value) + "]"
    return repr(value)
