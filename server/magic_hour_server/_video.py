"""Face detection in videos: stream frames with PyAV, detect on samples, one face per person.

Frames are decoded one at a time and dropped at once; only sampled frames (`sample_fps` per
second) are converted to RGB, first at a reduced working size for the detector, and at full
size only when a crop is needed. Detections are joined into tracks (`_tracking.Tracker`), and
each track is published once through the sink with the best view it had by then.

A view's quality is `score * sqrt(width * height)` -- the face's side length weighted by the
detector's confidence -- halved when the box touches the frame's edge, since such a face is
usually cut off.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import av.container
import av.video.frame
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from magic_hour_server._detector import Detection, FaceDetector
from magic_hour_server._media import MediaError
from magic_hour_server._processing import FaceSink, crop_face, pixel_box
from magic_hour_server._tracking import Tracker

VIDEO_FORMATS = frozenset({"mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "avi"})
"""FFmpeg demuxers of the video types the server accepts (mp4, m4v, mov, webm, mkv, avi)."""

MAX_PIXELS = 7680 * 4320
"""Frames larger than 8K are refused rather than decoded."""

DETECT_MAX_SIDE = 640
"""Sampled frames are scaled down to this longest side for the detector (faces in video are
rarely small, and the detector's cost grows with the pixel count)."""

RGB = NDArray[np.uint8]


@dataclass(frozen=True)
class _View:
    frame: int
    index: int
    time: float
    box: tuple[int, int, int, int]
    score: float
    quality: float
    crop: Image.Image


def process_video(
    path: str | os.PathLike[str],
    detector: FaceDetector,
    threshold: float,
    sink: FaceSink,
    *,
    sample_fps: float = 4.0,
    detect_max_side: int = DETECT_MAX_SIDE,
    publish_after_seconds: float = 3.0,
) -> None:
    """Detect the faces of the video at `path` and hand one per person to `sink`.

    Up to `sample_fps` frames per second go through `detector` with `threshold`. A person's
    face reaches the sink when their track ends, or after `publish_after_seconds` of video in
    which they were seen, whichever comes first, so long videos show faces while running.
    Raises MediaError when the file is not a readable video, or is damaged or truncated
    (faces published before the damage stay published).
    """
    if sample_fps <= 0:
        raise ValueError("sample_fps must be positive")
    samples_per_second = sample_fps
    tracker = Tracker(
        min_hits=2,
        # About a second without the face ends its track.
        max_missed=max(2, round(samples_per_second)),
        publish_after=max(2, round(publish_after_seconds * samples_per_second)),
    )
    with _open(Path(path)) as container:
        stream = container.streams.video[0]
        _Run(
            container, stream, detector, threshold, sink, tracker, sample_fps, detect_max_side
        ).run()


class _Run:
    def __init__(
        self,
        container: av.container.InputContainer,
        stream: av.VideoStream,
        detector: FaceDetector,
        threshold: float,
        sink: FaceSink,
        tracker: Tracker,
        sample_fps: float,
        detect_max_side: int,
    ) -> None:
        self.container = container
        self.stream = stream
        self.detector = detector
        self.threshold = threshold
        self.sink = sink
        self.tracker = tracker
        self.sample_fps = sample_fps
        self.detect_max_side = detect_max_side
        self.duration = _duration(container, stream)
        self.views: dict[int, _View] = {}
        self.published: set[int] = set()
        self.progress = 0.0

    def run(self) -> None:
        next_sample = 0.0
        decoded = 0
        last_time = 0.0
        try:
            for number, time, frame in _frames(self.container, self.stream):
                decoded, last_time = number + 1, time
                # A small tolerance keeps a frame that falls a rounding error early.
                if time + 1e-6 >= next_sample:
                    self._sample(number, time, frame)
                    next_sample = (math.floor(time * self.sample_fps + 1e-6) + 1) / self.sample_fps
                    self._report(time)
        except av.FFmpegError as err:
            self._finish()
            where = f" after {last_time:.1f} s" if decoded else ""
            raise MediaError(f"the video is damaged or truncated{where}") from err
        self._finish()
        if decoded == 0:
            if self.duration:
                raise MediaError("the video is truncated: no frame could be decoded")
            raise MediaError("the video has no frames")
        self._check_complete(decoded, last_time)
        self.sink.set_progress(1.0)

    def _sample(self, number: int, time: float, frame: av.VideoFrame) -> None:
        rotation = round(frame.rotation / 90) % 4
        width, height = frame.width, frame.height
        small_width, small_height = _working_size(width, height, self.detect_max_side)
        small = _rotate(_rgb(frame, small_width, small_height), rotation)
        # Scale factors back to full-size displayed pixels, per axis (rounding differs).
        sx = (height if rotation % 2 else width) / small.shape[1]
        sy = (width if rotation % 2 else height) / small.shape[0]
        detections = [
            Detection(d.x1 * sx, d.y1 * sy, d.x2 * sx, d.y2 * sy, min(1.0, max(0.0, d.score)))
            for d in self.detector.detect(small, self.threshold)
        ]
        boxes = [(d.x1, d.y1, d.x2, d.y2) for d in detections]
        update = self.tracker.update(time, boxes, [d.score for d in detections])

        full: Image.Image | None = None
        shown_width, shown_height = (height, width) if rotation % 2 else (width, height)
        for index, (found, track_id) in enumerate(zip(detections, update.assigned, strict=True)):
            if track_id in self.published:
                continue
            box = pixel_box(found, shown_width, shown_height)
            quality = _quality(box, found.score, shown_width, shown_height)
            best = self.views.get(track_id)
            if best is not None and best.quality >= quality:
                continue
            if full is None:
                full = Image.fromarray(_rotate(_rgb(frame, width, height), rotation))
            # crop_face copies the region: the view does not keep the frame alive.
            crop = crop_face(full, box)
            self.views[track_id] = _View(number, index, time, box, found.score, quality, crop)
        self._apply(update.ready, update.ended)

    def _apply(self, ready: list[int], ended: list[int]) -> None:
        for track_id in ready:
            view = self.views.pop(track_id, None)
            self.published.add(track_id)
            if view is not None:
                self._publish(view)
        for track_id in ended:
            self.views.pop(track_id, None)
            self.published.discard(track_id)

    def _publish(self, view: _View) -> None:
        self.sink.add_face(
            frame=view.frame,
            index=view.index,
            crop=view.crop,
            box=view.box,
            score=view.score,
            frame_time=round(view.time, 3),
        )

    def _finish(self) -> None:
        update = self.tracker.finish()
        self._apply(update.ready, update.ended)

    def _report(self, time: float) -> None:
        if not self.duration:
            return
        fraction = min(time / self.duration, 0.99)
        # Each report may be a database write: only whole percents are worth one.
        if fraction >= self.progress + 0.01:
            self.progress = fraction
            self.sink.set_progress(fraction)

    def _check_complete(self, decoded: int, last_time: float) -> None:
        missing = _matroska_shortfall(self.container.name)
        if missing:
            raise MediaError(f"the video is truncated: {missing} bytes are missing at its end")
        expected = self.stream.frames
        if expected and decoded < expected * 0.98 - 1:
            raise MediaError(
                f"the video is truncated: {decoded} of {expected} frames could be decoded"
            )
        if self.duration and not expected:
            rate = self.stream.average_rate or Fraction(25)
            end = last_time + 1 / float(rate)
            if end < self.duration - max(1.0, 0.05 * self.duration):
                raise MediaError(
                    f"the video is truncated: it stops at {end:.1f} s of {self.duration:.1f} s"
                )


def _open(path: Path) -> av.container.InputContainer:
    try:
        size = path.stat().st_size
    except OSError as err:
        raise MediaError("the video file cannot be read") from err
    if size == 0:
        raise MediaError("the video file is empty")
    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError) as err:
        raise MediaError("the file is not a readable video") from err
    try:
        if container.format.name not in VIDEO_FORMATS:
            kind = container.format.long_name
            raise MediaError(f"the file is not an mp4, mov or webm video (it looks like {kind})")
        if not container.streams.video:
            raise MediaError("the file has no video track (it may be truncated)")
        stream = container.streams.video[0]
        if stream.width * stream.height > MAX_PIXELS:
            raise MediaError(f"the video's frames are too large ({stream.width}x{stream.height})")
        if stream.width <= 0 or stream.height <= 0:
            raise MediaError("the video's frame size is unknown")
        stream.thread_type = "AUTO"
    except BaseException:
        container.close()
        raise
    return container


def _frames(
    container: av.container.InputContainer, stream: av.VideoStream
) -> Iterator[tuple[int, float, av.VideoFrame]]:
    """Decoded frames with their number (0-based, presentation order) and time in seconds."""
    time_base = stream.time_base
    rate = float(stream.average_rate or stream.guessed_rate or 25)
    origin = stream.start_time
    previous = 0.0
    for number, frame in enumerate(container.decode(stream)):
        if frame.pts is None or time_base is None:
            # No timestamps: count frames at the nominal rate.
            time = number / rate
        else:
            if origin is None:
                origin = frame.pts
            time = float((frame.pts - origin) * time_base)
        # Damaged timestamps must not make time run backwards (progress and tracking need it).
        previous = time = max(time, previous, 0.0)
        yield number, time, frame


def _duration(container: av.container.InputContainer, stream: av.VideoStream) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    if stream.frames and stream.average_rate:
        return float(stream.frames / stream.average_rate)
    return None


def _working_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """The detector's input size: at most `max_side`, sides rounded to multiples of 32.

    The network pads its input to multiples of 32; stretching the picture by a few percent
    instead costs nothing in accuracy and saves the padding's work. Boxes are scaled back
    per axis.
    """
    scale = min(1.0, max_side / max(width, height))
    return max(32, round(width * scale / 32) * 32), max(32, round(height * scale / 32) * 32)


def _rgb(frame: av.VideoFrame, width: int, height: int) -> RGB:
    """The frame as RGB pixels, scaled to width x height (by swscale, in C)."""
    pixels = frame.reformat(width=width, height=height, format="rgb24").to_ndarray()
    return cast(RGB, pixels)


def _rotate(image: RGB, quarter_turns: int) -> RGB:
    """Turn a decoded frame counterclockwise to how it is meant to be shown."""
    return np.ascontiguousarray(np.rot90(image, quarter_turns)) if quarter_turns else image


def _quality(box: tuple[int, int, int, int], score: float, width: int, height: int) -> float:
    x, y, w, h = box
    quality = score * math.sqrt(w * h)
    if x <= 1 or y <= 1 or x + w >= width - 1 or y + h >= height - 1:
        quality *= 0.5
    return quality


def _matroska_shortfall(path: str) -> int:
    """How many bytes a Matroska/WebM file lacks against the size its header declares.

    The demuxer stops quietly at the end of a cut-off WebM file, and WebM streams carry no
    frame count, but the Segment element states its size up front. Returns 0 for other
    files, and for segments of unknown size (live recordings).
    """
    try:
        with open(path, "rb") as file:
            head = file.read(64)
            file.seek(0, os.SEEK_END)
            size = file.tell()
    except OSError:
        return 0
    position = 0
    for element in (0x1A45DFA3, 0x18538067):  # EBML header, then Segment
        if int.from_bytes(head[position : position + 4]) != element:
            return 0
        length, value, unknown = _vint(head, position + 4)
        if length == 0:
            return 0
        position += 4 + length
        if element == 0x18538067:
            return 0 if unknown else max(0, position + value - size)
        position += value
    return 0


def _vint(data: bytes, at: int) -> tuple[int, int, bool]:
    """An EBML variable-length integer at `at`: (its length, its value, all-ones = unknown)."""
    if at >= len(data) or data[at] == 0:
        return 0, 0, False
    length = 9 - data[at].bit_length()
    if at + length > len(data):
        return 0, 0, False
    value = int.from_bytes(data[at : at + length]) & ((1 << (7 * length)) - 1)
    return length, value, value == (1 << (7 * length)) - 1
