"""The exceptions the SDK raises, and the mapping from an HTTP response to one of them."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx
from magic_hour_client.models import ErrorMessage

if TYPE_CHECKING:
    from magic_hour_client.models import FaceDetection

__all__ = [
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "InternalServerError",
    "MagicHourError",
    "NotFoundError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseTooLargeError",
    "TaskFailedError",
    "TaskTimeoutError",
    "UnexpectedTaskStatusError",
    "UnprocessableEntityError",
    "status_error_from_response",
]

# A server that answers with a whole HTML page should not flood a traceback.
_MAX_TEXT_MESSAGE = 300


class MagicHourError(Exception):
    """Base class of every error this SDK raises on purpose."""

    task_id: str | None = None
    """The task this happened to, when it happened after the task was created (a poll or
    a download that ran out of patience): resume with `face_detection.get(id=...)`."""


class APIStatusError(MagicHourError):
    """The API answered with an error status (4xx or 5xx).

    Attributes: `status_code`, `message` (the body's `message`, else a short text),
    `body` (the decoded JSON, the text, or None) and `response` (the `httpx.Response`).
    """

    def __init__(self, message: str, *, response: httpx.Response, body: object) -> None:
        super().__init__(f"{message} (HTTP {response.status_code})")
        self.message = message
        self.response = response
        self.body = body
        self.status_code = response.status_code
        self.request = response.request


class BadRequestError(APIStatusError):
    """400: the request is invalid."""


class AuthenticationError(APIStatusError):
    """401: the API token is missing or wrong."""


class PaymentRequiredError(APIStatusError):
    """402: the account has not enough credits."""


class PermissionDeniedError(APIStatusError):
    """403: the API token may not do this."""


class NotFoundError(APIStatusError):
    """404: no such task or resource."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the state of the resource."""


class UnprocessableEntityError(APIStatusError):
    """422: the request is well formed but cannot be carried out."""


class RateLimitError(APIStatusError):
    """429: too many requests (retried automatically before this is raised)."""


class InternalServerError(APIStatusError):
    """5xx: the server failed (retried automatically before this is raised)."""


class APIConnectionError(MagicHourError):
    """The request could not be sent or its answer not received."""

    def __init__(self, message: str = "Connection error.", *, request: httpx.Request) -> None:
        super().__init__(message)
        self.message = message
        self.request = request


class APITimeoutError(APIConnectionError):
    """The request timed out."""

    def __init__(self, *, request: httpx.Request) -> None:
        super().__init__("Request timed out.", request=request)


class APIResponseValidationError(MagicHourError):
    """A successful response whose body does not match the API's schema."""

    def __init__(self, message: str, *, response: httpx.Response | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.response = response


class ResponseTooLargeError(APIResponseValidationError):
    """The server sent more than the client reads (`max_response_bytes` for an API
    answer, `max_face_bytes` for a face image); the rest was not read."""


class TaskFailedError(MagicHourError):
    """The task ended in status `error`. `task` is the last `FaceDetection` read.

    `error_message` is the task's reason; `error_code` the `code` of the `error` object
    that the hosted API may add (`{"code", "message"}`), whose message stands in when
    `error_message` is absent.
    """

    def __init__(self, task: FaceDetection) -> None:
        # Typed once the document has `error`; kept as an unknown field before that.
        error = getattr(task, "error", None)
        if error is None or not hasattr(error, "to_dict"):
            error = task.additional_properties.get("error")
        else:
            error = error.to_dict()
        error = error if isinstance(error, dict) else {}
        code = error.get("code")
        reason = task.error_message if isinstance(task.error_message, str) else None
        if reason is None and isinstance(error.get("message"), str):
            reason = error["message"]
        detail = f": {reason}" if reason else " (no reason given)"
        if isinstance(code, str | int):
            detail += f" [{code}]"
        super().__init__(f"face detection {task.id} {self._verb(task)}{detail}")
        self.task = task
        self.task_id = task.id
        self.error_message = reason
        self.error_code = str(code) if isinstance(code, str | int) else None

    @staticmethod
    def _verb(task: FaceDetection) -> str:
        return "failed"


class UnexpectedTaskStatusError(TaskFailedError):
    """The task reached a status this SDK does not know (one the API added, such as
    `canceled`), so it cannot tell whether the task will ever complete; `status` says which.
    A `TaskFailedError`, so code that handles failed tasks handles it too."""

    def __init__(self, task: FaceDetection) -> None:
        super().__init__(task)
        self.status = str(task.status)

    @staticmethod
    def _verb(task: FaceDetection) -> str:
        return f"stopped in status {str(task.status)!r}, which this SDK does not know"


class TaskTimeoutError(MagicHourError, TimeoutError):
    """The task did not finish within `poll_timeout` seconds. `task` is the last one read."""

    def __init__(self, task: FaceDetection, timeout: float) -> None:
        super().__init__(
            f"face detection {task.id} did not finish within {timeout:g} s "
            f"(last status: {task.status.value})"
        )
        self.task = task
        self.task_id = task.id
        self.timeout = timeout

    @property
    def status(self) -> str:
        """The task's status when the wait ended."""
        return self.task.status.value


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: PaymentRequiredError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def error_class(status_code: int) -> type[APIStatusError]:
    """The exception class for an error status."""
    if status_code >= 500:
        return InternalServerError
    return _BY_STATUS.get(status_code, APIStatusError)


def decode_body(response: httpx.Response) -> object:
    """The error body as JSON when it is JSON, else as text (None when empty)."""
    if not response.content:
        return None
    try:
        decoded: object = json.loads(response.content)
    except ValueError:
        return response.text
    return decoded


def error_message(response: httpx.Response, body: object) -> str:
    """The server's `message` when there is one; else a short text that names the status."""
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return ErrorMessage.from_dict(body).message
    if isinstance(body, str) and body.strip():
        text = " ".join(body.split())
        return text if len(text) <= _MAX_TEXT_MESSAGE else text[:_MAX_TEXT_MESSAGE] + "..."
    return response.reason_phrase or f"HTTP {response.status_code}"


def status_error_from_response(response: httpx.Response) -> APIStatusError:
    """The exception for a response with an error status (the body must have been read)."""
    body: Any = decode_body(response)
    cls = error_class(response.status_code)
    return cls(error_message(response, body), response=response, body=body)
