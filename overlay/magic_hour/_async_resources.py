"""`client.v1` of `AsyncClient`: the same operations as `Client`'s, awaited."""

from __future__ import annotations

from typing import Unpack

from magic_hour_client.models import FaceDetection, FaceDetectionCreated, UploadUrls

from . import _operations, _workflow
from ._drivers import AsyncDriver
from ._operations import Context
from ._params import CreateParams, GenerateParams, GetParams, UploadFileParams, UploadUrlsParams
from ._uploads import FileInput
from ._workflow import FaceDetectionResult

__all__ = ["AsyncFaceDetectionResource", "AsyncFilesResource", "AsyncUploadUrlsResource", "AsyncV1"]


class AsyncFaceDetectionResource:
    """`client.v1.face_detection`; see `FaceDetectionResource` for each method."""

    def __init__(self, driver: AsyncDriver, context: Context) -> None:
        self._run, self._context = driver.run, context

    async def create(self, **params: Unpack[CreateParams]) -> FaceDetectionCreated:
        """Start a face detection; returns its `id` at once."""
        return await self._run(_operations.create(self._context, **params))

    async def get(self, **params: Unpack[GetParams]) -> FaceDetection:
        """The task's status and the faces found so far."""
        return await self._run(_operations.get(self._context, **params))

    async def generate(self, **params: Unpack[GenerateParams]) -> FaceDetectionResult:
        """Upload, start, wait and download; the final task with `downloaded_paths`."""
        return await self._run(_workflow.generate(self._context, **params))


class AsyncUploadUrlsResource:
    """`client.v1.files.upload_urls`."""

    def __init__(self, driver: AsyncDriver, context: Context) -> None:
        self._run, self._context = driver.run, context

    async def create(self, **params: Unpack[UploadUrlsParams]) -> UploadUrls:
        """Presigned upload URLs, one per item."""
        return await self._run(_operations.create_upload_urls(self._context, **params))


class AsyncFilesResource:
    """`client.v1.files`."""

    def __init__(self, driver: AsyncDriver, context: Context) -> None:
        self._run, self._context = driver.run, context
        self.upload_urls = AsyncUploadUrlsResource(driver, context)

    async def upload_file(self, file: FileInput, **params: Unpack[UploadFileParams]) -> str:
        """Upload a local file and return its `file_path` (URLs come back unchanged)."""
        return await self._run(_operations.upload_file(self._context, file, **params))


class AsyncV1:
    """`client.v1`."""

    def __init__(self, driver: AsyncDriver, context: Context) -> None:
        self.face_detection = AsyncFaceDetectionResource(driver, context)
        self.files = AsyncFilesResource(driver, context)
