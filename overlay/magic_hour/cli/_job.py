"""One input of `magic-hour detect`: detect, download the crops, draw the preview.

Runs through `AsyncClient.generate` so many inputs share one event loop. Everything
is written into a staging folder first and published whole (see `_outputs`).
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from .._errors import AuthenticationError
from .._events import (
    DownloadFinished,
    DownloadProgress,
    ProgressEvent,
    TaskCreated,
    TaskProgress,
    UploadProgress,
)
from . import _outputs
from ._messages import check_input, describe, error_code, kind_of, source_name
from ._preview import (
    FaceBox,
    PreviewUnavailable,
    SheetTile,
    annotate_image,
    contact_sheet,
    format_frame_time,
)
from ._progress import ProgressBoard, human_bytes
from ._report import FaceRecord, InputResult, Kind

if TYPE_CHECKING:
    from magic_hour_client.models import DetectedFace

    from .._client import AsyncClient

PREVIEW_NAME = "preview.png"


@dataclass(frozen=True)
class JobSettings:
    confidence: float
    timeout: float
    base_url: str
    previews: bool
    # Set when the API refuses the key: the inputs not yet sent are not sent at all.
    refused: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class _Tracker:
    """Turns the SDK's progress events into one row of the board."""

    board: ProgressBoard
    key: str
    status: str = "uploading"
    faces_expected: int = 0
    downloaded: dict[str, str] = field(default_factory=dict)

    def __call__(self, event: ProgressEvent) -> None:
        board, key = self.board, self.key
        if isinstance(event, UploadProgress):
            fraction = event.bytes_sent / event.total_bytes if event.total_bytes else 1.0
            sizes = f"{human_bytes(event.bytes_sent)} / {human_bytes(event.total_bytes)}"
            board.update(key, "upload", fraction, sizes)
        elif isinstance(event, TaskCreated):
            self.status = "queued"
            board.update(key, "queued", None, f"task {event.id}")
        elif isinstance(event, TaskProgress):
            self.status, self.faces_expected = event.status, event.faces
            stage = "detect" if event.status in ("rendering", "complete") else event.status
            plural = "face" if event.faces == 1 else "faces"
            board.update(key, stage, event.progress, f"{event.faces} {plural} so far")
        elif isinstance(event, DownloadFinished):
            self.downloaded[event.url] = event.path
            self._download_row()
        elif isinstance(event, DownloadProgress):
            self._download_row()

    def _download_row(self) -> None:
        self.status = "downloading"
        done, total = len(self.downloaded), max(self.faces_expected, len(self.downloaded))
        fraction = done / total if total else None
        self.board.update(self.key, "download", fraction, f"{done}/{total} faces")


def _optional(value: object) -> Any:
    """The generated models mark absent optional fields with `UNSET`; make that None."""
    from magic_hour_client.types import Unset

    return None if isinstance(value, Unset) else value


def _face_record(face: DetectedFace, written: Path) -> FaceRecord:
    box = _optional(face.box)
    return FaceRecord(
        file=str(written),
        url=face.url,
        path=face.path,
        box=None
        if box is None
        else {k: int(box.to_dict()[k]) for k in ("x", "y", "width", "height")},
        score=_optional(face.score),
        frame=_optional(face.frame),
        frame_time=_optional(face.frame_time),
    )


def _draw_preview(
    kind: Kind, source: Path, faces: list[FaceRecord], staging: Path
) -> tuple[str | None, str | None]:
    """Draw the preview into `staging`; returns (file name, note). The note says why
    there is no preview or why it shows less than it could."""
    destination = staging / PREVIEW_NAME
    try:
        if kind == "image":
            if faces and any(face.box is None for face in faces):
                return None, "the API gave no face boxes: no annotated preview (crops only)"
            boxes = [
                FaceBox(f.box["x"], f.box["y"], f.box["width"], f.box["height"], f.score)
                for f in faces
                if f.box is not None
            ]
            annotate_image(source, boxes, destination)
        else:
            tiles = []
            for face in faces:
                caption = f"frame {face.frame}" if face.frame is not None else Path(face.file).stem
                if face.frame_time is not None:
                    caption += f" · {format_frame_time(face.frame_time)}"
                tiles.append(SheetTile(staging / Path(face.file).name, caption))
            plural = "face" if len(faces) == 1 else "faces"
            contact_sheet(tiles, destination, title=f"{source.name}: {len(faces)} {plural}")
    except PreviewUnavailable as err:
        return None, str(err)
    return PREVIEW_NAME, None


async def run_job(
    client: AsyncClient,
    planned: _outputs.Planned,
    settings: JobSettings,
    board: ProgressBoard,
    limit: asyncio.Semaphore,
) -> InputResult:
    """Detect faces in one input and publish its folder; never raises for a failed input."""
    source = planned.source
    result = InputResult(input=str(source), name=planned.name)
    problem = check_input(source)
    if problem is not None:
        result.error, result.error_code = problem, "invalid_input"
        return result
    result.kind = cast(Kind, kind_of(source))
    async with limit:
        if settings.refused.is_set():
            result.error, result.error_code = "not sent: the API refused the key", "not_sent"
            return result
        key = f"{planned.name}"
        board.start(key, source_name(source))
        tracker = _Tracker(board, key)
        started = time.monotonic()
        staging: Path | None = None
        try:
            try:
                staging = _outputs.staging_for(planned.directory)
            except OSError as err:
                # Name the folder the user gave, not the hidden one made inside it.
                raise OSError(err.errno, err.strerror, str(planned.directory.parent)) from None
            async with asyncio.timeout(settings.timeout):
                task = await client.v1.face_detection.generate(
                    assets={"target_file_path": str(source)},
                    confidence_score=settings.confidence,
                    download_outputs=True,
                    download_directory=str(staging),
                    poll_timeout=settings.timeout,
                    on_progress=tracker,
                )
            result.task_id = task.id
            # The SDK saves a task's faces in a folder named after it; an input's folder
            # holds one task, so its crops sit at the top.
            for local in task.downloaded_paths:
                os.replace(local, staging / Path(local).name)
            if task.downloaded_paths:
                Path(task.downloaded_paths[0]).parent.rmdir()
            final = planned.directory
            # downloaded_paths follows the order of faces.
            faces = [
                _face_record(face, final / Path(local).name)
                for face, local in zip(task.faces, task.downloaded_paths, strict=True)
            ]
            preview = None
            if settings.previews and isinstance(source, Path):
                board.update(key, "preview", None)
                preview, result.note = await asyncio.to_thread(
                    _draw_preview, result.kind, source, faces, staging
                )
            elif settings.previews:
                result.note = "no preview: the input is a URL, not a file on this machine"
            result.faces = faces
            result.preview = str(final / preview) if preview else None
            result.output_dir = str(final)
            result.seconds = time.monotonic() - started
            result.ok = True
            _outputs.write_manifest(staging, {"source": str(source), **result.to_json()})
            _outputs.publish(staging, final)
            staging = None
        except Exception as err:  # one input's failure must not stop the others
            result.ok = False
            result.error = describe(
                err, base_url=settings.base_url, timeout=settings.timeout, status=tracker.status
            )
            result.error_code = error_code(err)
            # A task that exists is named, so that it can be read again.
            result.task_id = result.task_id or getattr(err, "task_id", None)
            if isinstance(err, AuthenticationError):
                settings.refused.set()
        finally:
            if staging is not None:
                _outputs.discard(staging)
            result.seconds = time.monotonic() - started
            board.finish(key, failed=not result.ok)
    return result
