"""`generate`: upload, create, poll, download, as one workflow for both clients."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Unpack

import attrs
from magic_hour_client.models import DetectedFace, FaceDetection, FaceDetectionStatus

from . import _operations
from ._actions import Blocking, Flow, Gather, Sleep
from ._downloads import (
    DownloadFile,
    check_download_url,
    filename_from_url,
    sanitize_filename,
    unique_names,
)
from ._errors import (
    APIResponseValidationError,
    MagicHourError,
    TaskFailedError,
    TaskTimeoutError,
    UnexpectedTaskStatusError,
)
from ._events import ProgressCallback, TaskCreated, TaskProgress
from ._operations import Context, send
from ._params import RequestOptions
from ._polling import (
    DEFAULT_POLL_TIMEOUT,
    FIRST_READ_WAIT,
    LONG_POLL_SECONDS,
    long_poll_wait,
    poll_delay,
)
from ._results import Task
from ._retry import RetryMode
from ._uploads import LocalFile, classify_file

__all__ = ["MAX_CONCURRENT_DOWNLOADS", "FaceDetectionResult", "download_faces", "generate"]

_IN_PROGRESS = frozenset({FaceDetectionStatus.QUEUED, FaceDetectionStatus.RENDERING})
# Enough to hide latency; few enough not to swamp the storage host or the disk.
MAX_CONCURRENT_DOWNLOADS = 4


@attrs.define
class FaceDetectionResult(Task):
    """What `generate` returns: the task as the API described it last (a `Task`, so
    `res.id`, `res.status`, `res.faces[0].url` work as usual, and fields the API did not
    send are None) plus `downloaded_paths`, the saved face images in the order of
    `faces`."""

    downloaded_paths: list[str] = attrs.field(factory=list, kw_only=True)

    @classmethod
    def from_task(cls, task: FaceDetection, downloaded_paths: list[str]) -> FaceDetectionResult:
        """`task` with the paths of its downloaded faces."""
        values = {
            str(f.alias): getattr(task, f.name) for f in attrs.fields(FaceDetection) if f.init
        }
        result = cls(**values, downloaded_paths=downloaded_paths)
        result.additional_properties = dict(task.additional_properties)
        return result


def generate(
    context: Context,
    *,
    assets: Mapping[str, Any],
    confidence_score: float = 0.5,
    wait_for_completion: bool = True,
    download_outputs: bool = True,
    download_directory: str | os.PathLike[str] | None = None,
    poll_timeout: float = DEFAULT_POLL_TIMEOUT,
    on_progress: ProgressCallback | None = None,
    long_poll: bool | None = None,
    **options: Unpack[RequestOptions],
) -> Flow[FaceDetectionResult]:
    """Upload the input if it is local, start the detection, wait for it, save the faces."""
    if "target_file_path" not in assets:
        raise ValueError("assets must have a 'target_file_path'")
    # Everything that can be refused is refused here, before any request.
    source = classify_file(assets["target_file_path"])
    directory = Path(download_directory) if download_directory is not None else Path.cwd()
    if download_outputs and wait_for_completion and directory.exists() and not directory.is_dir():
        raise NotADirectoryError(f"download_directory {str(directory)!r} is a file, not a folder")
    # Each step rides through transient failures for `context.patience` seconds.
    if isinstance(source, LocalFile):
        file_path = yield from _operations.upload(
            context, source, on_progress, options, context.clock() + context.patience
        )
    else:
        file_path = source.file_path
    created = yield from _operations.create(
        context,
        assets={**assets, "target_file_path": file_path},  # the caller's dict stays as it was
        confidence_score=confidence_score,
        # One key for this generate(): its create may be sent again safely where the
        # server honours the key.
        idempotency_key=str(uuid.uuid4()),
        patient_until=context.clock() + context.patience,
        **options,
    )
    _emit(on_progress, TaskCreated(created.id, created.credits_charged))
    if not wait_for_completion:
        return FaceDetectionResult.from_task(_queued(created.id, created.credits_charged), [])
    task = yield from wait(context, created.id, poll_timeout, on_progress, options, long_poll)
    paths: list[str] = []
    if download_outputs and task.faces:
        try:
            # A folder per task: the promised names, never another task's file replaced.
            folder = directory / sanitize_filename(task.id, "task")
            paths = yield from download_faces(context, task.faces, folder, on_progress, options)
        except MagicHourError as exc:
            _with_task(exc, created.id)
            raise
        except OSError as exc:  # the local disk: a folder that cannot be made, a full disk
            exc.add_note(_read_it_again(created.id))
            raise
    return FaceDetectionResult.from_task(task, paths)


def _with_task(error: MagicHourError, task_id: str) -> None:
    """Make `error` say which task it happened to, so that the caller can resume."""
    if error.task_id is None:
        error.task_id = task_id
        error.add_note(_read_it_again(task_id))


def _read_it_again(task_id: str) -> str:
    return f"task {task_id} exists; read it with client.v1.face_detection.get(id={task_id!r})"


def wait(
    context: Context,
    id: str,
    poll_timeout: float,
    on_progress: ProgressCallback | None,
    options: RequestOptions,
    long_poll: bool | None = None,
) -> Flow[FaceDetection]:
    """Poll the task until it is `complete`; TaskFailedError on `error`, TaskTimeoutError
    (with the last task read) when `poll_timeout` seconds pass first.

    Each poll asks the server to hold its answer until the task changes (`Prefer: wait`,
    unless `long_poll` or the client says not to). While the server says it does so, the
    next poll follows at once; a server that does not (the hosted API, a proxy that drops
    the header) is polled on the adaptive schedule of `poll_delay`, as without it.
    """
    started = context.clock()
    deadline = started + poll_timeout
    asking = context.long_poll if long_poll is None else long_poll
    polled = False
    read_timeout = context.timeout_for(options).read
    while True:
        remaining = deadline - context.clock()
        # The first read is held briefly: the caller has seen no status yet.
        longest = LONG_POLL_SECONDS if polled else FIRST_READ_WAIT
        wait_for = long_poll_wait(read_timeout, remaining, longest) if asking else None
        try:
            # A poll rides through outages (connection errors, timeouts, 429, 5xx) until
            # the deadline: reading a task is safe to repeat.
            task, held = yield from _operations.poll(
                context, id, wait_for, options, patient_until=deadline
            )
        except MagicHourError as exc:
            _with_task(exc, id)
            raise
        polled = True
        progress = task.progress if isinstance(task.progress, int | float) else None
        _emit(on_progress, TaskProgress(task.id, task.status.value, progress, len(task.faces)))
        if task.status is FaceDetectionStatus.COMPLETE:
            return task
        if task.status is FaceDetectionStatus.ERROR:
            raise TaskFailedError(task)
        if task.status not in _IN_PROGRESS:
            # A status the API added: waiting could last forever.
            raise UnexpectedTaskStatusError(task)
        remaining = deadline - context.clock()
        if remaining <= 0:
            raise TaskTimeoutError(task, poll_timeout)
        if held:
            continue  # the server waited for a change: ask again at once
        delay = poll_delay(context.clock() - started, context.random, context.poll_interval)
        yield Sleep(min(delay, remaining))


def download_faces(
    context: Context,
    faces: list[DetectedFace],
    directory: Path,
    on_progress: ProgressCallback | None,
    options: RequestOptions,
) -> Flow[list[str]]:
    """Save every face image in `directory`, a few at a time; their paths, in order."""
    for face in faces:
        try:
            check_download_url(face.url)
        except ValueError as exc:
            raise APIResponseValidationError(str(exc)) from exc
    names = unique_names(
        [
            filename_from_url(
                face.url,
                fallback=sanitize_filename(face.path.rsplit("/", 1)[-1], f"face-{number}.png"),
            )
            for number, face in enumerate(faces)
        ]
    )
    made = not directory.exists()
    directory.mkdir(parents=True, exist_ok=True)
    flows = [
        _download(context, face.url, directory, name, on_progress, options)
        for face, name in zip(faces, names, strict=True)
    ]
    try:
        paths: list[Path] = yield Gather(flows, MAX_CONCURRENT_DOWNLOADS)
    except BaseException:
        if made:  # the task's folder, when nothing was saved in it
            with contextlib.suppress(OSError):
                directory.rmdir()
        raise
    return [str(path) for path in paths]


def _download(
    context: Context,
    url: str,
    directory: Path,
    name: str,
    on_progress: ProgressCallback | None,
    options: RequestOptions,
) -> Flow[Path]:
    file = DownloadFile(directory, name, url, on_progress)
    try:
        request = context.http.build_request("GET", url, timeout=context.timeout_for(options))
        patient_until = context.clock() + context.patience
        yield from send(context, request, RetryMode.SAFE, options, file, patient_until)
        committed: Path = yield Blocking(file.commit)  # fsync: milliseconds on a disk
        return committed
    finally:
        file.discard()


def _queued(task_id: str, credits_charged: int) -> FaceDetection:
    """The task as it is just after creation, without asking the API. Fields that a newer
    document makes required, which the SDK cannot know yet, are None."""
    known: dict[str, Any] = {
        "id": task_id,
        "credits_charged": credits_charged,
        "status": FaceDetectionStatus.QUEUED,
        "faces": [],
    }
    required = [
        f.name for f in attrs.fields(FaceDetection) if f.init and f.default is attrs.NOTHING
    ]
    values: dict[str, Any] = {}
    for name in required:
        values[name] = known.get(name)
    return FaceDetection(**values)


def _emit(on_progress: ProgressCallback | None, event: TaskCreated | TaskProgress) -> None:
    if on_progress is not None:
        on_progress(event)
