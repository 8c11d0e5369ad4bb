"""upstream ∩ the operations we serve + our overlay → the document we generate from."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from ._documents import dump_yaml
from ._errors import SpecError
from ._facts import annotate, parse_upload_extensions
from ._overlay import apply_overlay, check_overlay

__all__ = [
    "BUILT",
    "OVERLAY",
    "ROOT",
    "UPSTREAM",
    "UPSTREAM_SOURCE",
    "build",
    "error_model",
    "is_error_status",
    "load_overlay",
    "render_built",
    "select_operations",
    "served_operations",
    "unify_errors",
]

ROOT = Path(__file__).resolve().parents[2]
UPSTREAM = ROOT / "openapi" / "upstream" / "magic-hour.json"
UPSTREAM_SOURCE = ROOT / "openapi" / "upstream" / "source.json"
OVERLAY = ROOT / "openapi" / "overlay.yaml"
BUILT = ROOT / "openapi" / "face-detection.yaml"

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
HEADER = (
    "# Built by `make generate` from openapi/upstream/magic-hour.json (the hosted document)\n"
    "# and openapi/overlay.yaml (our additions). Never edit it: `make check-generated` fails\n"
    "# on any difference. Change the overlay, or vendor a new upstream with\n"
    "# `make update-spec FROM=...`.\n"
)


def load_overlay(path: Path = OVERLAY) -> dict[str, Any]:
    try:
        overlay = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SpecError(f"cannot read the overlay {path}: {exc}") from None
    check_overlay(overlay)
    served_operations(overlay)
    error_model(overlay)
    return dict(overlay)


def error_model(overlay: Mapping[str, Any]) -> str:
    """The `$ref` every error response's body becomes (the overlay's `x-error-model`)."""
    ref = overlay.get("x-error-model")
    if not isinstance(ref, str) or not ref.startswith("#/components/schemas/"):
        raise SpecError("the overlay's x-error-model is not a '#/components/schemas/...' $ref")
    return ref


def is_error_status(status: Any) -> bool:
    """4xx and 5xx, as codes or ranges (`429`, `4XX`)."""
    text = str(status).upper()
    return len(text) == 3 and text[0] in "45" and all(c.isdigit() or c == "X" for c in text[1:])


def unify_errors(document: dict[str, Any], ref: str) -> None:
    """Every error response's JSON body becomes `ref`, whatever status it is for."""
    name = ref.rsplit("/", 1)[-1]
    if name not in document.get("components", {}).get("schemas", {}):
        raise SpecError(f"the overlay's x-error-model names {name}, which no action defines")
    for item in document["paths"].values():
        for method in METHODS:
            operation = item.get(method) if isinstance(item, Mapping) else None
            if not isinstance(operation, Mapping):
                continue
            for status, response in operation.get("responses", {}).items():
                content = response.get("content") if isinstance(response, Mapping) else None
                if (
                    is_error_status(status)
                    and isinstance(content, dict)
                    and "application/json" in content
                ):
                    content["application/json"] = {
                        **content["application/json"],
                        "schema": {"$ref": ref},
                    }


def served_operations(overlay: Mapping[str, Any]) -> list[str]:
    """The upstream operationIds we serve (the overlay's `x-upstream-operations`)."""
    ids = overlay.get("x-upstream-operations")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise SpecError("the overlay lists no operations in x-upstream-operations")
    return list(ids)


def select_operations(document: Mapping[str, Any], operation_ids: list[str]) -> dict[str, Any]:
    """A copy of `document` whose paths hold only the operations named (and the path items
    they are in); everything outside `paths` is kept as it is."""
    selected: dict[str, Any] = {}
    found: set[str] = set()
    for path, item in document["paths"].items():
        if not isinstance(item, Mapping):
            continue
        kept = {
            method: op
            for method, op in item.items()
            if method in METHODS
            and isinstance(op, Mapping)
            and op.get("operationId") in operation_ids
        }
        if kept:
            found.update(op["operationId"] for op in kept.values())
            rest = {k: v for k, v in item.items() if k not in METHODS}
            selected[path] = copy.deepcopy({**rest, **kept})
    missing = [i for i in operation_ids if i not in found]
    if missing:
        raise SpecError(
            "the upstream document lacks the operation(s) this project serves: "
            + ", ".join(missing)
            + " (renamed or removed upstream? update x-upstream-operations in the overlay)"
        )
    result = copy.deepcopy({k: v for k, v in document.items() if k != "paths"})
    ordered: dict[str, Any] = {}
    for key in document:  # keep the document's own key order
        ordered[key] = selected if key == "paths" else result[key]
    return ordered


def build(upstream: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """The built document, validated as OpenAPI."""
    selected = select_operations(upstream, served_operations(overlay))
    built = apply_overlay(selected, overlay)
    unify_errors(built, error_model(overlay))
    annotate(built, parse_upload_extensions(selected))
    try:
        validate(built)
    except OpenAPIValidationError as exc:
        where = "/".join(str(p) for p in exc.path) or "the document"
        raise SpecError(
            f"the built document is not valid OpenAPI at {where}: {exc.message}"
        ) from None
    return built


def render_built(built: Any) -> str:
    return dump_yaml(built, HEADER)
