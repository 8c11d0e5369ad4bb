"""The API operations as workflows: build the request with the generated operation
module, send it with retries, and parse the answer into the generated model. Here too
the `magic_hour` logger they log to (`MAGIC_HOUR_LOG=debug` or `info` turns it on)."""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, Unpack

import attrs
import httpx
from magic_hour_client import AuthenticatedClient
from magic_hour_client.api.face_detection import create as create_operation
from magic_hour_client.api.face_detection import get as get_operation
from magic_hour_client.api.files import create_upload_urls as upload_urls_operation
from magic_hour_client.models import (
    FaceDetection,
    FaceDetectionAssets,
    FaceDetectionCreated,
    FaceDetectionRequest,
    UploadUrls,
    UploadUrlsRequest,
    UploadUrlsRequestItem,
)
from magic_hour_client.types import UNSET

from ._actions import Flow, Send, Sleep
from ._downloads import DownloadFile
from ._errors import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    status_error_from_response,
)
from ._events import ProgressCallback
from ._params import RequestOptions, UploadUrlItemParam
from ._results import Task, fill_missing_nullable, plain_task
from ._retry import RetryMode, retry_delay, should_retry_error, should_retry_status
from ._uploads import FileInput, LocalFile, UploadStream, classify_file
from ._version import __version__

__all__ = [
    "DEFAULT_PATIENCE",
    "LOG_ENV",
    "Context",
    "create",
    "create_upload_urls",
    "get",
    "logger",
    "poll",
    "send",
    "setup_logging",
    "upload",
    "upload_file",
]

T = TypeVar("T")
LOG_ENV = "MAGIC_HOUR_LOG"
logger = logging.getLogger("magic_hour")
# How long a step of generate() (upload, create, each download) goes on retrying a
# transient failure after max_retries; polls go on until poll_timeout.
DEFAULT_PATIENCE = 120.0
# A task's JSON is kilobytes and a face crop megabytes: far more is a broken or hostile
# server, and is not read into memory or onto disk.
DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_FACE_BYTES = 64 * 1024 * 1024
USER_AGENT = f"magic-hour-python/{__version__}"


@attrs.define
class Context:
    """What the workflows need from the client. `http` is used only to build requests
    (its base headers and cookies apply); sending is the driver's job."""

    api: AuthenticatedClient
    http: httpx.Client | httpx.AsyncClient
    base_url: str
    timeout: float | httpx.Timeout | None
    max_retries: int
    poll_interval: float | None = None
    long_poll: bool = True
    patience: float = DEFAULT_PATIENCE
    # Whether any request of this client got an answer: until one does, a connection
    # failure is more likely a wrong address than an outage, and is not waited out.
    answered: bool = False
    # Whether the server said it honours `Idempotency-Key` (it sent the key back): then a
    # create whose answer was lost is safe to send again with the same key.
    idempotent_creates: bool = False
    # Whether `http`'s connect errors mean the request was not sent (`reports_unsent`):
    # only then is a create retried after one.
    connect_errors_mean_unsent: bool = True
    random: Callable[[], float] = random.random
    clock: Callable[[], float] = time.monotonic
    # The most an API answer, and a face image, may hold once decoded.
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    max_face_bytes: int = DEFAULT_MAX_FACE_BYTES

    def timeout_for(self, options: RequestOptions) -> httpx.Timeout:
        """The timeout of one request: the call's override, else the client's."""
        return httpx.Timeout(options.get("timeout", self.timeout))

    def deadline_for(self, options: RequestOptions) -> float | None:
        """Seconds one request may take in all: a number `timeout` is that (as well as
        each phase's limit); an `httpx.Timeout` is httpx's per-phase limits, and its
        read limit is the whole request's too."""
        timeout = options.get("timeout", self.timeout)
        if isinstance(timeout, httpx.Timeout):
            return timeout.read
        return timeout

    def api_request(self, kwargs: dict[str, Any], options: RequestOptions) -> httpx.Request:
        """The request the generated operation's `_get_kwargs` describes, with auth."""
        kwargs = dict(kwargs)
        api = self.api
        headers = {
            **kwargs.pop("headers", {}),
            "User-Agent": USER_AGENT,
            api.auth_header_name: f"{api.prefix} {api.token}" if api.prefix else api.token,
        }
        url = self.base_url.rstrip("/") + kwargs.pop("url")
        method = str(kwargs.pop("method")).upper()
        timeout = self.timeout_for(options)
        return self.http.build_request(method, url, headers=headers, timeout=timeout, **kwargs)


class _Where:
    """A request's method and URL for log lines, worked out only when a line is written
    (a URL copy costs more than the rest of the request's bookkeeping). Upload URLs carry
    their signature in the query: it is never shown."""

    __slots__ = ("_request",)

    def __init__(self, request: httpx.Request) -> None:
        self._request = request

    def __str__(self) -> str:
        url = self._request.url.copy_with(query=None, fragment=None)
        return f"{self._request.method} {url}"


def send(
    context: Context,
    request: httpx.Request,
    mode: RetryMode,
    options: RequestOptions,
    sink: DownloadFile | None = None,
    patient_until: float | None = None,
) -> Flow[httpx.Response]:
    """Send `request`, retrying as `mode` allows; the successful response, or raise.

    A failure worth retrying is retried `max_retries` times; with `patient_until` (a time
    on `context.clock`), it goes on being retried after that, with capped backoff and the
    server's Retry-After, until that time: a workflow's requests ride through an outage
    that a single call would report. A connection failure is waited out so only once
    the client has had an answer from somewhere: before that it is most likely a wrong
    address, which waiting would only hide.
    """
    max_retries = options.get("max_retries", context.max_retries)
    where = _Where(request)
    retries = 0
    while True:
        logger.debug("request: %s", where)
        failure: httpx.Response | httpx.RequestError
        try:
            response: httpx.Response = yield Send(
                request,
                sink,
                max_bytes=context.max_face_bytes if sink else context.max_response_bytes,
                # An upload may take as long as its size needs; its phases have limits.
                deadline=None if request.method == "PUT" else context.deadline_for(options),
            )
        except httpx.RequestError as exc:
            if not should_retry_error(exc, mode):
                raise _connection_error(exc, request) from exc
            failure, reason = exc, type(exc).__name__
            delay = retry_delay(retries, context.random)
        else:
            logger.debug("response: %s -> %d", where, response.status_code)
            context.answered = True
            if not should_retry_status(response.status_code, mode):
                if not response.is_success:
                    raise status_error_from_response(response)
                return response
            failure, reason = response, f"HTTP {response.status_code}"
            delay = retry_delay(retries, context.random, response)
        retries += 1
        if retries > max_retries:
            left = None if patient_until is None else patient_until - context.clock()
            if isinstance(failure, httpx.RequestError) and not context.answered:
                left = None  # never reached: a wrong address, not an outage
            if left is None or left <= 0:
                if isinstance(failure, httpx.Response):
                    raise status_error_from_response(failure)
                raise _connection_error(failure, request) from failure
            delay = min(delay, left)
            logger.warning(
                "%s failed (%s); retrying in %.1f s (attempt %d, %.0f s of patience left)",
                where, reason, delay, retries + 1, left,
            )  # fmt: skip
        else:
            logger.debug(
                "retrying %s in %.2f s (%s; retry %d of %d)",
                where, delay, reason, retries, max_retries,
            )  # fmt: skip
        yield Sleep(delay)


def _connection_error(exc: httpx.RequestError, request: httpx.Request) -> APIConnectionError:
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(request=request)
    return APIConnectionError(f"Connection error: {exc or type(exc).__name__}", request=request)


def _parse(response: httpx.Response, model: type[T]) -> T:
    """The generated model of a successful response; APIResponseValidationError when the
    body does not fit the schema. A missing required field that may be null reads as None
    (`_results`)."""
    try:
        parsed = model.from_dict(fill_missing_nullable(model, response.json()))  # type: ignore[attr-defined]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise APIResponseValidationError(
            f"the response to {response.request.method} {response.request.url.path} does not "
            f"match the API schema: {type(exc).__name__}: {exc}",
            response=response,
        ) from exc
    if not isinstance(parsed, model):
        raise APIResponseValidationError(
            f"expected a {model.__name__}, got {type(parsed).__name__}", response=response
        )
    return parsed


def create(
    context: Context,
    *,
    assets: Mapping[str, Any],
    confidence_score: float = 0.5,
    idempotency_key: str | None = None,
    patient_until: float | None = None,
    **options: Unpack[RequestOptions],
) -> Flow[FaceDetectionCreated]:
    """POST /v1/face-detection, retried only when it surely was not processed (until
    `patient_until`, when given; see `send`)."""
    if not isinstance(assets.get("target_file_path"), str):
        raise TypeError(
            "create() takes assets={'target_file_path': <http(s) URL or api-assets/... path>}; "
            "to upload a local file, use generate() or files.upload_file()"
        )
    body = FaceDetectionRequest(
        assets=FaceDetectionAssets.from_dict(assets), confidence_score=confidence_score
    )
    key = UNSET if idempotency_key is None else idempotency_key
    request = context.api_request(
        create_operation._get_kwargs(body=body, idempotency_key=key), options
    )
    # With a key the server honours, sending the create again cannot make a second task.
    if idempotency_key is not None and context.idempotent_creates:
        mode = RetryMode.SAFE
    elif context.connect_errors_mean_unsent:
        mode = RetryMode.ONLY_IF_NOT_PROCESSED
    else:
        mode = RetryMode.ONLY_IF_REFUSED
    response = yield from send(context, request, mode, options, patient_until=patient_until)
    if idempotency_key is not None and response.headers.get("idempotency-key") == idempotency_key:
        context.idempotent_creates = True
    return _parse(response, FaceDetectionCreated)


def get(context: Context, *, id: str, **options: Unpack[RequestOptions]) -> Flow[Task]:
    """GET /v1/face-detection/{id}."""
    task, _ = yield from poll(context, id, None, options)
    return task


def poll(
    context: Context,
    id: str,
    wait: int | None,
    options: RequestOptions,
    patient_until: float | None = None,
) -> Flow[tuple[Task, bool]]:
    """GET /v1/face-detection/{id}, with `Prefer: wait=<wait>` when `wait` is given; the
    task, and whether the server says it applied the wait (`Preference-Applied`).
    Transient failures are retried until `patient_until`, when given (see `send`)."""
    prefer = f"wait={wait}" if wait is not None else UNSET
    request = context.api_request(get_operation._get_kwargs(id=id, prefer=prefer), options)
    response = yield from send(
        context, request, RetryMode.SAFE, options, patient_until=patient_until
    )
    task = plain_task(_parse(response, FaceDetection))
    applied = wait is not None and "wait" in response.headers.get("preference-applied", "")
    return task, applied


def create_upload_urls(
    context: Context,
    *,
    items: Sequence[UploadUrlItemParam | UploadUrlsRequestItem],
    patient_until: float | None = None,
    **options: Unpack[RequestOptions],
) -> Flow[UploadUrls]:
    """POST /v1/files/upload-urls. Retried like a GET: a repeat only issues another
    presigned URL, which expires unused and costs nothing."""
    body = UploadUrlsRequest(
        items=[
            item
            if isinstance(item, UploadUrlsRequestItem)
            else UploadUrlsRequestItem.from_dict(item)
            for item in items
        ]
    )
    request = context.api_request(upload_urls_operation._get_kwargs(body=body), options)
    response = yield from send(
        context, request, RetryMode.SAFE, options, patient_until=patient_until
    )
    urls = _parse(response, UploadUrls)
    if len(urls.items) != len(items):
        raise APIResponseValidationError(
            f"asked for {len(items)} upload URLs, got {len(urls.items)}", response=response
        )
    return urls


def upload(
    context: Context,
    source: LocalFile,
    on_progress: ProgressCallback | None,
    options: RequestOptions,
    patient_until: float | None = None,
) -> Flow[str]:
    """Get an upload URL for `source`, PUT the file there streamed from disk, and return
    the `file_path` to use as `target_file_path`."""
    item = UploadUrlsRequestItem(type_=source.asset_type, extension=source.extension)
    urls = yield from create_upload_urls(
        context, items=[item], patient_until=patient_until, **options
    )
    target = urls.items[0]
    stream = UploadStream(source, on_progress)
    url = httpx.URL(target.upload_url)
    request = httpx.Request(
        "PUT",
        url,
        # httpx fills in Host only for bodies it encodes itself, not for a given stream.
        headers={**stream.headers, "Host": url.netloc.decode("ascii"), "User-Agent": USER_AGENT},
        stream=stream,
        extensions={"timeout": context.timeout_for(options).as_dict()},
    )
    yield from send(context, request, RetryMode.SAFE, options, patient_until=patient_until)
    return target.file_path


def upload_file(
    context: Context,
    file: FileInput,
    *,
    on_progress: ProgressCallback | None = None,
    **options: Unpack[RequestOptions],
) -> Flow[str]:
    """Upload a local file (a URL or an `api-assets/` path comes back unchanged)."""
    source = classify_file(file)
    if not isinstance(source, LocalFile):
        return source.file_path
    return (yield from upload(context, source, on_progress, options))


def setup_logging() -> None:
    """Apply `MAGIC_HOUR_LOG`. Adds a stderr handler once, unless the application has
    configured handlers of its own. Nothing logged ever includes the API token."""
    level = os.environ.get(LOG_ENV, "").strip().upper()
    if level not in ("DEBUG", "INFO"):
        return
    logger.setLevel(level)
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("[%(asctime)s %(name)s %(levelname)s] %(message)s"))
        logger.addHandler(handler)
