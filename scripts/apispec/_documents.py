"""Reading OpenAPI documents (JSON or YAML, from a file or an http(s) URL) and writing
the built one the same way every time."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import yaml

from ._errors import SpecError

__all__ = ["dump_yaml", "load_openapi", "parse_openapi", "read_source", "sha256"]


def read_source(source: str) -> bytes:
    """The bytes of a file path or an http(s) URL."""
    if source.startswith(("http://", "https://")):
        try:
            response = httpx.get(source, timeout=30, follow_redirects=True)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise SpecError(f"cannot download {source}: {exc}") from None
        return response.content
    path = Path(source)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SpecError(f"cannot read {source}: {exc.strerror or exc}") from None


def parse_openapi(data: bytes, name: str) -> dict[str, Any]:
    """The document in `data` (JSON or YAML), checked to be OpenAPI 3.x with paths."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError(f"{name} is not text (UTF-8 JSON or YAML)") from None
    try:
        document = json.loads(text)
    except ValueError:
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            raise SpecError(f"{name} is neither JSON nor YAML{where}") from None
    if not isinstance(document, dict):
        raise SpecError(f"{name} is not an OpenAPI document (not a JSON/YAML object)")
    version = document.get("openapi")
    if not isinstance(version, str) or not version.startswith("3."):
        found = f"'openapi: {version}'" if version else "no 'openapi' field"
        raise SpecError(f"{name} is not an OpenAPI 3.x document ({found})")
    if not isinstance(document.get("paths"), dict):
        raise SpecError(f"{name} has no paths")
    return document


def load_openapi(source: str) -> dict[str, Any]:
    return parse_openapi(read_source(source), source)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def dump_yaml(document: Any, header: str = "") -> str:
    """YAML in the document's own key order, the same bytes for the same document."""
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    return header + body


def dump_json(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
