"""`client.v1` of the blocking `Client`.

Every method lists its keywords (a misspelled one is a TypeError, as in any Python
call) and says what each does; `AsyncClient`'s methods take the same ones. All of them
also take `timeout` (seconds each HTTP request may take; None: no limit) and
`max_retries` (retries of each failed request), overriding the client's for this call.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import httpx
from magic_hour_client.models import (
    FaceDetectionCreated,
    UploadUrls,
    UploadUrlsRequestItem,
)

from . import _operations, _workflow
from ._drivers import SyncDriver
from ._events import ProgressCallback
from ._operations import Context
from ._params import (
    NOT_GIVEN,
    FaceDetectionAssetsParam,
    GenerateAssetsParam,
    NotGiven,
    UploadUrlItemParam,
    request_options,
)
from ._polling import DEFAULT_POLL_TIMEOUT
from ._results import Task
from ._uploads import FileInput
from ._workflow import FaceDetectionResult

__all__ = ["V1", "FaceDetectionResource", "FilesResource", "UploadUrlsResource"]


class FaceDetectionResource:
    """`client.v1.face_detection`."""

    def __init__(self, driver: SyncDriver, context: Context) -> None:
        self._run, self._context = driver.run, context

    def create(
        self,
        *,
        assets: FaceDetectionAssetsParam,
        confidence_score: float = 0.5,
        idempotency_key: str | None = None,
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> FaceDetectionCreated:
        """Start a face detection (`POST /v1/face-detection`); returns its `id` at once.

        Args:
            assets: `{"target_file_path": ...}`, an http(s) URL or the `file_path` of an
                upload (`api-assets/...`); to detect in a local file, use `generate`.
            confidence_score: the lowest score a face may have, 0 to 1 in steps of 0.05.
            idempotency_key: sent as `Idempotency-Key`; a server that honours it (it says
                so by sending it back) answers a create sent again with the same key
                with the same task.
            timeout, max_retries: override the client's for this call.
        """
        return self._run(
            _operations.create(
                self._context,
                assets=assets,
                confidence_score=confidence_score,
                idempotency_key=idempotency_key,
                **request_options(timeout, max_retries),
            )
        )

    def get(
        self,
        *,
        id: str,
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> Task:
        """The task's status and the faces found so far (`GET /v1/face-detection/{id}`).

        Args:
            id: the id that `create` returned.
            timeout, max_retries: override the client's for this call.
        """
        return self._run(
            _operations.get(self._context, id=id, **request_options(timeout, max_retries))
        )

    def generate(
        self,
        *,
        assets: GenerateAssetsParam,
        confidence_score: float = 0.5,
        wait_for_completion: bool = True,
        download_outputs: bool = True,
        download_directory: str | os.PathLike[str] | None = None,
        poll_timeout: float = DEFAULT_POLL_TIMEOUT,
        on_progress: ProgressCallback | None = None,
        long_poll: bool | None = None,
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> FaceDetectionResult:
        """Detect faces end to end: upload a local input, start the detection, wait for it
        and save the face images; returns the final task with `downloaded_paths`.

        Args:
            assets: `{"target_file_path": ...}`: a local path (str or Path) or a binary
                file object with a name, uploaded first; or an http(s) URL or an
                `api-assets/...` path, used as they are.
            confidence_score: the lowest score a face may have, 0 to 1 in steps of 0.05.
            wait_for_completion: poll until the task is `complete`; when False, return
                right after creating it, with status `queued` and no faces.
            download_outputs: save the face images once complete.
            download_directory: where to save them (created if missing; default: the
                current directory), in a folder named after the task's id, as
                `<frame>-<index>.png`: `outputs/<id>/0-0.png`. Calls into the same
                directory never touch each other's files.
            poll_timeout: seconds to wait for completion before `TaskTimeoutError`.
            on_progress: called with progress events (see `magic_hour.ProgressEvent`).
            long_poll: ask the server to hold each poll until the task changes (`Prefer:
                wait`, RFC 7240); default: the client's `long_poll`. Servers that ignore
                it are polled as usual.
            timeout, max_retries: override the client's for each request of this call.

        Raises `TaskFailedError` when the task ends in `error`, `TaskTimeoutError` after
        `poll_timeout` seconds, ValueError / FileNotFoundError for bad input (before any
        request), and the `APIStatusError` family for API errors.
        """
        return self._run(
            _workflow.generate(
                self._context,
                assets=assets,
                confidence_score=confidence_score,
                wait_for_completion=wait_for_completion,
                download_outputs=download_outputs,
                download_directory=download_directory,
                poll_timeout=poll_timeout,
                on_progress=on_progress,
                long_poll=long_poll,
                **request_options(timeout, max_retries),
            )
        )


class UploadUrlsResource:
    """`client.v1.files.upload_urls`."""

    def __init__(self, driver: SyncDriver, context: Context) -> None:
        self._run, self._context = driver.run, context

    def create(
        self,
        *,
        items: Sequence[UploadUrlItemParam | UploadUrlsRequestItem],
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> UploadUrls:
        """Presigned upload URLs, one per item (`POST /v1/files/upload-urls`).

        Args:
            items: `{"type": "image" | "video" | "audio", "extension": "png"}` each.
            timeout, max_retries: override the client's for this call.
        """
        return self._run(
            _operations.create_upload_urls(
                self._context, items=items, **request_options(timeout, max_retries)
            )
        )


class FilesResource:
    """`client.v1.files`."""

    def __init__(self, driver: SyncDriver, context: Context) -> None:
        self._run, self._context = driver.run, context
        self.upload_urls = UploadUrlsResource(driver, context)

    def upload_file(
        self,
        file: FileInput,
        *,
        on_progress: ProgressCallback | None = None,
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> str:
        """Upload a local file and return its `file_path` for `target_file_path`.

        Args:
            file: a local path (str, Path or `file://` URL) or a binary file object with
                a name; an http(s) URL or `api-assets/` path is returned as it is.
            on_progress: called with `UploadProgress` events as the file is sent.
            timeout, max_retries: override the client's for this call.
        """
        return self._run(
            _operations.upload_file(
                self._context,
                file,
                on_progress=on_progress,
                **request_options(timeout, max_retries),
            )
        )


class V1:
    """`client.v1`."""

    def __init__(self, driver: SyncDriver, context: Context) -> None:
        self.face_detection = FaceDetectionResource(driver, context)
        self.files = FilesResource(driver, context)
