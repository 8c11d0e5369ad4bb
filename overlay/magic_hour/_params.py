"""The keyword arguments of the resource methods, shared by `Client` and `AsyncClient`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Literal, Required, TypedDict

import httpx
from magic_hour_client.models import AssetType, UploadUrlsRequestItem

from ._events import ProgressCallback
from ._uploads import FileInput

__all__ = [
    "NOT_GIVEN",
    "CreateParams",
    "FaceDetectionAssetsParam",
    "GenerateAssetsParam",
    "GenerateParams",
    "GetParams",
    "NotGiven",
    "RequestOptions",
    "UploadFileParams",
    "UploadUrlItemParam",
    "UploadUrlsParams",
    "request_options",
]


class NotGiven:
    """The default of `timeout` and `max_retries` on each method: the client's setting
    applies. (`timeout=None` means no limit, so None cannot stand for "not given".)"""

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()


def request_options(
    timeout: float | httpx.Timeout | NotGiven | None, max_retries: int | NotGiven
) -> RequestOptions:
    """The per-call overrides that were given."""
    options = RequestOptions()
    if not isinstance(timeout, NotGiven):
        options["timeout"] = timeout
    if not isinstance(max_retries, NotGiven):
        options["max_retries"] = max_retries
    return options


class RequestOptions(TypedDict, total=False):
    """Per-call overrides, accepted by every method."""

    timeout: float | httpx.Timeout | None
    """Seconds each HTTP request may take (None: no limit). Default: the client's."""
    max_retries: int
    """Retries of each failed request. Default: the client's `max_retries`."""


class FaceDetectionAssetsParam(TypedDict):
    """`assets` of `create`."""

    target_file_path: str
    """An http(s) URL, or the `file_path` of an upload such as `api-assets/id/1234.png`."""


class GenerateAssetsParam(TypedDict):
    """`assets` of `generate`."""

    target_file_path: FileInput
    """A local path (str or Path), a binary file object with a name (uploaded first),
    an http(s) URL or an `api-assets/...` path (used as they are)."""


class CreateParams(RequestOptions, total=False):
    """Arguments of `face_detection.create`."""

    assets: Required[FaceDetectionAssetsParam]
    confidence_score: float
    """Minimum score of a face, 0 to 1 in steps of 0.05. Default 0.5."""
    idempotency_key: str
    """Sent as `Idempotency-Key`: a server that honours it (it says so by sending it back)
    answers a create sent again with the same key with the same task."""


class GetParams(RequestOptions, total=False):
    """Arguments of `face_detection.get`."""

    id: Required[str]
    """The id that `create` returned."""


class GenerateParams(RequestOptions, total=False):
    """Arguments of `face_detection.generate`."""

    assets: Required[GenerateAssetsParam]
    confidence_score: float
    """Minimum score of a face, 0 to 1 in steps of 0.05. Default 0.5."""
    wait_for_completion: bool
    """Poll until the task is `complete` (default True). When False, return right after
    creating it, with status `queued` and no faces."""
    download_outputs: bool
    """Save the face images once complete (default True)."""
    download_directory: str | os.PathLike[str] | None
    """Where to save them (created if missing). Default: the current directory."""
    poll_timeout: float
    """Seconds to wait for completion before `TaskTimeoutError`. Default 1800."""
    on_progress: ProgressCallback | None
    """Called with progress events (see `magic_hour.ProgressEvent`)."""
    long_poll: bool
    """Ask the server to hold each poll until the task changes (`Prefer: wait`, RFC 7240).
    Default: the client's `long_poll` (True). Servers that ignore it are polled as usual."""


class UploadUrlItemParam(TypedDict):
    """One file to get an upload URL for."""

    type: Literal["video", "audio", "image"] | AssetType
    extension: str
    """Lower case, without the dot, e.g. `png`."""


class UploadUrlsParams(RequestOptions, total=False):
    """Arguments of `files.upload_urls.create`."""

    items: Required[Sequence[UploadUrlItemParam | UploadUrlsRequestItem]]


class UploadFileParams(RequestOptions, total=False):
    """Options of `files.upload_file`."""

    on_progress: ProgressCallback | None
    """Called with `UploadProgress` events as the file is sent."""
