"""The OpenAPI document: valid, complete, and saying what the hosted API's contract says."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from tests.contract._openapi import DOCUMENT, Validator, named_schemas, operations, resolve
from tests.document import example

# The statuses the wire contract names for every operation: the document must keep
# documenting them. It may add more (429, 409, ...): each is then an ErrorMessage too.
CONTRACT_ERROR_STATUSES = {"400", "401", "404", "422"}


def test_document_is_valid_openapi_3_0() -> None:
    spec, _ = read_from_filename("openapi/face-detection.yaml")
    validate(spec)
    assert DOCUMENT["openapi"].startswith("3.0.")


def test_server_and_bearer_security() -> None:
    assert DOCUMENT["servers"][0]["url"] == "https://api.magichour.ai"
    scheme = DOCUMENT["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for op in operations():
        assert (op.spec.get("security") or DOCUMENT.get("security")) == [{"bearerAuth": []}]


def test_operations_are_the_contracts_three() -> None:
    found = {(op.method, op.path): op.operation_id for op in operations()}
    assert found == {
        ("post", "/v1/face-detection"): "create",
        ("get", "/v1/face-detection/{id}"): "get",
        ("post", "/v1/files/upload-urls"): "createUploadUrls",
    }


@pytest.mark.parametrize("op", list(operations()), ids=lambda op: op.operation_id)
def test_every_operation_is_described_with_examples_and_errors(op: Any) -> None:
    assert op.spec["description"].strip()
    statuses = set(op.spec["responses"])
    assert {"200", *CONTRACT_ERROR_STATUSES} <= statuses
    errors = [s for s in statuses if s[0] in "45"]
    for status in errors:
        assert op.spec["responses"][status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorMessage"
        }
        assert op.response_schema(status)["required"] == ["message"]
    if "requestBody" in op.spec:
        assert op.spec["requestBody"]["required"] is True
        title = op.request_schema()["title"]
        Validator(resolve(op.request_schema(), DOCUMENT)).validate(example(title))
    else:
        assert all("example" in p or "example" in p["schema"] for p in op.spec["parameters"])
    # The generated client has a module named after the operation, with no prefix.
    assert hasattr(op.module, "sync_detailed")
    assert hasattr(op.module, "asyncio_detailed")


OBJECTS = sorted(name for name, schema in named_schemas().items() if "properties" in schema)


@pytest.mark.parametrize("name", OBJECTS)
def test_every_property_is_described_and_a_body_built_from_the_schema_is_valid(name: str) -> None:
    schema = named_schemas()[name]
    for prop in schema["properties"].values():
        assert resolve(prop, DOCUMENT).get("description", "").strip()
    Validator(resolve(schema, DOCUMENT)).validate(example(name))


def test_contract_constraints() -> None:
    schemas = named_schemas()
    score = schemas["FaceDetectionRequest"]["properties"]["confidence_score"]
    assert (score["minimum"], score["maximum"], score["default"], score["multipleOf"]) == (
        0,
        1,
        0.5,
        0.05,
    )
    # The wire contract's fields are required (the API may add more; that is not a break).
    assert schemas["FaceDetectionRequest"]["required"] == ["assets"]
    assert schemas["FaceDetectionAssets"]["required"] == ["target_file_path"]
    assert {"id", "credits_charged"} <= set(schemas["FaceDetectionCreated"]["required"])
    assert {"id", "credits_charged", "status", "faces"} <= set(schemas["FaceDetection"]["required"])
    statuses = schemas["FaceDetectionStatus"]["enum"]
    assert {"queued", "rendering", "complete", "error"} <= set(statuses)
    assert {"path", "url"} <= set(schemas["DetectedFace"]["required"])
    assert {"video", "audio", "image"} <= set(schemas["AssetType"]["enum"])
    assert schemas["UploadUrlsRequest"]["properties"]["items"]["minItems"] == 1
    item = schemas["UploadUrlsRequestItem"]
    assert item["properties"]["extension"]["pattern"] == "^[a-z0-9]+$"
    assert item["required"] == ["type", "extension"]
    assert {"upload_url", "expires_at", "file_path"} <= set(schemas["UploadUrl"]["required"])


def test_our_extensions_are_optional() -> None:
    schemas = named_schemas()
    assert not {"progress", "error_message"} & set(schemas["FaceDetection"]["required"])
    assert not {"box", "score", "frame", "frame_time"} & set(schemas["DetectedFace"]["required"])


@pytest.mark.parametrize(
    ("extension", "valid"),
    [("png", True), ("mp4", True), ("png\n", False), ("PNG", False), ("p.g", False), ("", False)],
)
def test_extension_pattern_is_ecma_262(extension: str, valid: bool) -> None:
    # JSON Schema patterns are ECMA-262: `$` is the end of input, not "before a final newline".
    schema = resolve(named_schemas()["UploadUrlsRequestItem"], DOCUMENT)
    assert Validator(schema).is_valid({"type": "image", "extension": extension}) is valid
