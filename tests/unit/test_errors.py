"""Error statuses become typed exceptions that carry the server's message."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import magic_hour
import pytest
from magic_hour import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    TaskFailedError,
    TaskTimeoutError,
    UnprocessableEntityError,
)
from magic_hour._errors import status_error_from_response
from magic_hour_client.models import FaceDetection

from .conftest import FakeApi, Harness, task_body

GET = httpx.Request("GET", "https://api.test/v1/face-detection/x")


def answer(status: int, **kwargs: object) -> httpx.Response:
    response = httpx.Response(status, request=GET, **kwargs)  # type: ignore[arg-type]
    response.read()
    return response


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (402, PaymentRequiredError),
        (404, NotFoundError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (503, InternalServerError),
        (403, PermissionDeniedError),
        (409, ConflictError),
        (418, APIStatusError),
    ],
)
def test_each_status_has_its_class(status: int, cls: type[APIStatusError]) -> None:
    error = status_error_from_response(answer(status, json={"message": "the reason"}))
    assert type(error) is cls
    assert isinstance(error, magic_hour.MagicHourError)
    assert error.status_code == status
    assert error.message == "the reason"
    assert error.body == {"message": "the reason"}
    assert "the reason" in str(error)


def test_a_non_json_body_still_maps_cleanly() -> None:
    error = status_error_from_response(answer(502, text="<html><b>Bad   gateway</b></html>"))
    assert isinstance(error, InternalServerError)
    assert error.message == "<html><b>Bad gateway</b></html>"
    assert error.body == "<html><b>Bad   gateway</b></html>"


def test_an_empty_body_gives_the_reason_phrase() -> None:
    error = status_error_from_response(answer(404))
    assert isinstance(error, NotFoundError)
    assert error.message == "Not Found"
    assert error.body is None


def test_json_without_a_message_and_a_huge_text_body() -> None:
    assert status_error_from_response(answer(400, json={"detail": "x"})).message == "Bad Request"
    long = status_error_from_response(answer(500, text="e" * 5000))
    assert len(long.message) < 400 and long.message.endswith("...")


def test_task_errors_carry_the_task_and_its_reason() -> None:
    failed = FaceDetection.from_dict(task_body("t9", "error", [], error_message="not an image"))
    error = TaskFailedError(failed)
    assert error.task is failed
    assert "t9" in str(error) and "not an image" in str(error)
    assert "no reason" in str(TaskFailedError(FaceDetection.from_dict(task_body("t", "error", []))))
    slow = FaceDetection.from_dict(task_body("t8", "rendering", []))
    timeout = TaskTimeoutError(slow, 30)
    assert timeout.status == "rendering" and timeout.task is slow
    assert isinstance(timeout, TimeoutError)
    assert "rendering" in str(timeout) and "30" in str(timeout)


@pytest.mark.anyio
async def test_an_api_error_reaches_the_caller_with_its_message(sdk: Harness, api: FakeApi) -> None:
    api.queue("GET", "/v1/face-detection/x", httpx.Response(401, json={"message": "Unauthorized"}))
    with pytest.raises(AuthenticationError) as caught:
        await sdk(lambda v1: v1.face_detection.get(id="x"))
    assert caught.value.message == "Unauthorized"
    assert str(caught.value) == "Unauthorized (HTTP 401)"
    assert caught.value.response.status_code == 401


@pytest.mark.anyio
async def test_a_success_that_does_not_fit_the_schema(sdk: Harness, api: FakeApi) -> None:
    api.queue("GET", "/v1/face-detection/x", httpx.Response(200, json={"id": "x"}))
    with pytest.raises(APIResponseValidationError, match="does not match the API schema"):
        await sdk(lambda v1: v1.face_detection.get(id="x"))
    api.queue("GET", "/v1/face-detection/x", httpx.Response(200, text="not json"))
    with pytest.raises(APIResponseValidationError):
        await sdk(lambda v1: v1.face_detection.get(id="x"))


@pytest.mark.anyio
async def test_connection_failures_become_sdk_errors(
    make_sdk: Callable[..., Harness], api: FakeApi
) -> None:
    sdk = make_sdk(max_retries=0)
    path = "/v1/face-detection/x"
    api.queue("GET", path, httpx.ConnectError("refused"))
    with pytest.raises(APIConnectionError, match="refused") as caught:
        await sdk(lambda v1: v1.face_detection.get(id="x"))
    assert not isinstance(caught.value, APITimeoutError)
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    api.queue("GET", path, httpx.ReadTimeout("slow"))
    with pytest.raises(APITimeoutError):
        await sdk(lambda v1: v1.face_detection.get(id="x"))
