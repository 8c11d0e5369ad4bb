"""Progress events passed to an `on_progress` callback.

`generate(..., on_progress=callback)` and `upload_file(..., on_progress=callback)` call
`callback(event)` with one of these as the work advances:

- `UploadProgress`: bytes of the local file sent so far (restarts at 0 when a failed
  upload is retried).
- `TaskCreated`: the detection was started; its id.
- `TaskProgress`: after each poll: the status, the task's `progress` (0..1, when the
  server reports it) and the number of faces found so far.
- `DownloadProgress`: bytes of one face image written so far.
- `DownloadFinished`: one face image is complete at `path`.

Downloads run in parallel, so with `Client` the callback may be called from worker
threads (one at a time per download, not serialized across downloads).
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

__all__ = [
    "DownloadFinished",
    "DownloadProgress",
    "ProgressCallback",
    "ProgressEvent",
    "TaskCreated",
    "TaskProgress",
    "UploadProgress",
]


@attrs.frozen
class UploadProgress:
    """Bytes of `file_name` sent so far, out of `total_bytes`."""

    file_name: str
    bytes_sent: int
    total_bytes: int


@attrs.frozen
class TaskCreated:
    """A face detection was started."""

    id: str
    credits_charged: int


@attrs.frozen
class TaskProgress:
    """The task's state after one poll."""

    id: str
    status: str
    """`queued`, `rendering`, `complete` or `error`."""
    progress: float | None
    """The share of the input processed, 0..1, when the server reports it."""
    faces: int
    """Faces found so far."""


@attrs.frozen
class DownloadProgress:
    """Bytes of the face image at `url` written so far, out of `total_bytes` when known."""

    url: str
    bytes_received: int
    total_bytes: int | None


@attrs.frozen
class DownloadFinished:
    """The face image from `url` is saved at `path`."""

    url: str
    path: str


ProgressEvent = UploadProgress | TaskCreated | TaskProgress | DownloadProgress | DownloadFinished
ProgressCallback = Callable[[ProgressEvent], object]
