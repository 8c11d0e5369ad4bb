"""Generated models against the document: responses round-trip, requests serialize validly."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from magic_hour_client import AuthenticatedClient
from magic_hour_client.models import ErrorMessage

from tests.contract._openapi import (
    DOCUMENT,
    Operation,
    Validator,
    model_class,
    named_schemas,
    normalize,
    operations,
    resolve,
    schema_variant,
)
from tests.contract._strategies import from_schema
from tests.document import example

CLIENT = AuthenticatedClient(base_url="https://api.magichour.ai", token="test-token")
CASES = [
    (op, status, variant)
    for op in operations()
    for status in op.spec["responses"]
    for variant in ("minimal", "full")
]
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse(op: Operation, status: str, body: Any) -> Any:
    """What the generated operation module makes of a response with this status and body."""
    response = httpx.Response(int(status), content=json.dumps(body).encode())
    return op.module._build_response(client=CLIENT, response=response).parsed


@pytest.mark.parametrize(
    ("op", "status", "variant"),
    CASES,
    ids=[f"{op.operation_id}-{status}-{variant}" for op, status, variant in CASES],
)
def test_generated_responses_parse_and_round_trip(op: Operation, status: str, variant: str) -> None:
    schema = op.response_schema(status)
    strategy = from_schema(schema_variant(schema, all_optional=variant == "full"))

    @SETTINGS
    @given(strategy)
    def check(body: Any) -> None:
        parsed = parse(op, status, body)
        assert parsed is not None
        if status == "200":
            assert not isinstance(parsed, ErrorMessage)
            # Nothing dropped, nothing invented: the model gives back the document it read.
            assert normalize(parsed.to_dict(), schema) == normalize(body, schema)
        else:
            assert isinstance(parsed, ErrorMessage)
            assert parsed.message == body["message"]

    check()


def test_a_hosted_response_without_extensions_parses() -> None:
    op = next(op for op in operations() if op.operation_id == "get")
    # Only what the document requires (the hosted API sends none of our extensions).
    face = example("DetectedFace", url="https://videos.example/0-0.png")
    body = example("FaceDetection", credits_charged=5, status="rendering", faces=[face])
    parsed = parse(op, "200", body)
    assert parsed.status == "rendering"
    assert parsed.faces[0].url == "https://videos.example/0-0.png"
    assert parsed.to_dict() == body


@pytest.mark.parametrize("name", sorted(named_schemas()))
def test_every_schema_example_round_trips(name: str) -> None:
    schema = resolve(named_schemas()[name], DOCUMENT)
    cls = model_class(name)
    if schema.get("type") == "string":  # enums
        for value in schema["enum"]:
            assert cls(value).value == value
        return
    body = example(name)
    assert normalize(cls.from_dict(body).to_dict(), schema) == normalize(body, schema)


REQUESTS = [op for op in operations() if "requestBody" in op.spec]


@pytest.mark.parametrize("op", REQUESTS, ids=lambda op: op.operation_id)
def test_generated_request_models_send_valid_bodies(op: Operation) -> None:
    schema = op.request_schema()
    body_class = model_class(schema_name(op))

    @SETTINGS
    @given(from_schema(schema))
    def check(document: Any) -> None:
        model = body_class.from_dict(document)
        sent = op.module._get_kwargs(body=model)["json"]
        Validator(schema).validate(sent)
        assert normalize(sent, schema) == normalize(document, schema)

    check()


@SETTINGS
@given(
    path=st.text(min_size=1),
    step=st.integers(min_value=0, max_value=20),
)
def test_face_detection_request_built_in_python_is_valid_on_the_wire(path: str, step: int) -> None:
    from magic_hour_client.api.face_detection import create
    from magic_hour_client.models import FaceDetectionAssets, FaceDetectionRequest

    model = FaceDetectionRequest(
        assets=FaceDetectionAssets(target_file_path=path), confidence_score=step * 0.05
    )
    sent = create._get_kwargs(body=model)
    assert sent["method"] == "post"
    assert sent["url"] == "/v1/face-detection"
    Validator(resolve(named_schemas()["FaceDetectionRequest"], DOCUMENT)).validate(sent["json"])


def schema_name(op: Operation) -> str:
    title: str = op.request_schema()["title"]
    return title
