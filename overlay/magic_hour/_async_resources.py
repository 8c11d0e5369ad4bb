"""`client.v1` of `AsyncClient`: the same methods and keywords as `Client`'s, awaited;
each method's docstring is its sync twin's (`_resources.py`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import httpx
from magic_hour_client.models import (
    FaceDetectionCreated,
    UploadUrls,
    UploadUrlsRequestItem,
)

from . import _operations, _workflow
from ._drivers import AsyncDriver
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
from ._resources import FaceDetectionResource, FilesResource, UploadUrlsResource
from ._results import Task
from ._uploads import FileInput
from ._workflow import FaceDetectionResult

__all__ = ["AsyncFaceDetectionResource", "AsyncFilesResource", "AsyncUploadUrlsResource", "AsyncV1"]

MethodT = TypeVar("MethodT", bound=Callable[..., Any])


def _documented_by(sync: Callable[..., Any]) -> Callable[[MethodT], MethodT]:
    """Give an async method the docstring of its sync twin: one text for both, which
    `help()` shows on either (the keywords are the same; a test holds them so)."""

    def apply(method: MethodT) -> MethodT:
        method.__doc__ = sync.__doc__
        return method

    return apply


class AsyncFaceDetectionResource:
    """`client.v1.face_detection`."""

    def __init__(self, driver: AsyncDriver, context: Context) -> None:
        self._run, self._context = driver.run, context

    @_documented_by(FaceDetectionResource.create)
    async def create(
        self,
        *,
        assets: FaceDetectionAssetsParam,
        confidence_score: float = 0.5,
        idempotency_key: str | None = None,
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> FaceDetectionCreated:
        return await self._run(
            _operations.create(
                self._context,
                assets=assets,
                confidence_score=confidence_score,
                idempotency_key=idempotency_key,
                **request_options(timeout, max_retries),
            )
        )

    @_documented_by(FaceDetectionResource.get)
    async def get(
        self,
        *,
        id: str,
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> Task:
        return await self._run(
            _operations.get(self._context, id=id, **request_options(timeout, max_retries))
        )

    @_documented_by(FaceDetectionResource.generate)
    async def generate(
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
        return await self._run(
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


class AsyncUploadUrlsResource:
    """`client.v1.files.upload_urls`."""

    def __init__(self, driver: AsyncDriver, context: Context) -> None:
        self._run, self._context = driver.run, context

    @_documented_by(UploadUrlsResource.create)
    async def create(
        self,
        *,
        items: Sequence[UploadUrlItemParam | UploadUrlsRequestItem],
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> UploadUrls:
        return await self._run(
            _operations.create_upload_urls(
                self._context, items=items, **request_options(timeout, max_retries)
            )
        )


class AsyncFilesResource:
    """`client.v1.files`."""

    def __init__(self, driver: AsyncDriver, context: Context) -> None:
        self._run, self._context = driver.run, context
        self.upload_urls = AsyncUploadUrlsResource(driver, context)

    @_documented_by(FilesResource.upload_file)
    async def upload_file(
        self,
        file: FileInput,
        *,
        on_progress: ProgressCallback | None = None,
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> str:
        return await self._run(
            _operations.upload_file(
                self._context,
                file,
                on_progress=on_progress,
                **request_options(timeout, max_retries),
            )
        )


class AsyncV1:
    """`client.v1` of `AsyncClient`."""

    def __init__(self, driver: AsyncDriver, context: Context) -> None:
        self.face_detection = AsyncFaceDetectionResource(driver, context)
        self.files = AsyncFilesResource(driver, context)
