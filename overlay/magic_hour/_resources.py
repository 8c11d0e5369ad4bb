"""`client.v1` of the blocking `Client`. Arguments are documented on the `*Params` types."""

from __future__ import annotations

from typing import Unpack

from magic_hour_client.models import FaceDetection, FaceDetectionCreated, UploadUrls

from . import _operations, _workflow
from ._drivers import SyncDriver
from ._operations import Context
from ._params import CreateParams, GenerateParams, GetParams, UploadFileParams, UploadUrlsParams
from ._uploads import FileInput
from ._workflow import FaceDetectionResult

__all__ = ["V1", "FaceDetectionResource", "FilesResource", "UploadUrlsResource"]


class FaceDetectionResource:
    """`client.v1.face_detection`."""

    def __init__(self, driver: SyncDriver, context: Context) -> None:
        self._run, self._context = driver.run, context

    def create(self, **params: Unpack[CreateParams]) -> FaceDetectionCreated:
        """Start a face detection (`POST /v1/face-detection`); returns its `id` at once.

        `assets={"target_file_path": ...}` takes an http(s) URL or an uploaded
        `api-assets/...` path; `confidence_score` (0..1, steps of 0.05, default 0.5).
        """
        return self._run(_operations.create(self._context, **params))

    def get(self, **params: Unpack[GetParams]) -> FaceDetection:
        """The task's status and the faces found so far (`GET /v1/face-detection/{id}`)."""
        return self._run(_operations.get(self._context, **params))

    def generate(self, **params: Unpack[GenerateParams]) -> FaceDetectionResult:
        """Detect faces end to end: upload a local input, start the detection, wait for it
        and save the face images; returns the final task with `downloaded_paths`.

        Raises `TaskFailedError` when the task ends in `error`, `TaskTimeoutError` after
        `poll_timeout` seconds, ValueError / FileNotFoundError for bad input (before any
        request), and the `APIStatusError` family for API errors.
        """
        return self._run(_workflow.generate(self._context, **params))


class UploadUrlsResource:
    """`client.v1.files.upload_urls`."""

    def __init__(self, driver: SyncDriver, context: Context) -> None:
        self._run, self._context = driver.run, context

    def create(self, **params: Unpack[UploadUrlsParams]) -> UploadUrls:
        """Presigned upload URLs, one per item (`POST /v1/files/upload-urls`)."""
        return self._run(_operations.create_upload_urls(self._context, **params))


class FilesResource:
    """`client.v1.files`."""

    def __init__(self, driver: SyncDriver, context: Context) -> None:
        self._run, self._context = driver.run, context
        self.upload_urls = UploadUrlsResource(driver, context)

    def upload_file(self, file: FileInput, **params: Unpack[UploadFileParams]) -> str:
        """Upload a local file (path or binary file object) and return its `file_path`
        for `target_file_path`; an http(s) URL or `api-assets/` path is returned as is."""
        return self._run(_operations.upload_file(self._context, file, **params))


class V1:
    """`client.v1`."""

    def __init__(self, driver: SyncDriver, context: Context) -> None:
        self.face_detection = FaceDetectionResource(driver, context)
        self.files = FilesResource(driver, context)
