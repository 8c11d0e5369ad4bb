"""Face detection in videos: stream frames with PyAV, detect on samples, one face per person.

Frames are decoded one at a time in a background thread and dropped at once; only sampled
frames (`sample_fps` per second) are converted to RGB, at a reduced working size for the
detector, and at full size only when a crop is needed (`_video_decode`). Detections are
joined into tracks (`_tracking.Tracker`), and each track is published once through the sink
with the best view it had by then.

A view's quality is `score * sqrt(width * height)` -- the face's side length weighted by the
detector's confidence -- halved when the box touches the frame's edge, since such a face is
usually cut off.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.container
from PIL import Image

from magic_hour_server._detector import Detection, FaceDetector
from magic_hour_server._media import MediaError
from magic_hour_server._processing import FaceSink, crop_face, pixel_box
from magic_hour_server._tracking import Seen, Tracker, look_of
from magic_hour_server._video_decode import (
    Sample,
    SampledFrames,
    duration_of,
    matroska_shortfall,
    open_video,
)

DETECT_MAX_SIDE = 416
"""Sampled frames are scaled down to this longest side for the detector, whose cost grows
with the pixel count and is nearly all of the time a video takes. The detector finds faces
down to about 10 px at that scale: faces at least 1/40 of the frame's longer side (31 px in
720p, 46 px in 1080p). Measured on the 720p benchmark clip: 480 px gave 4.7x real time,
416 px 5.5x (2 cores). Photos get 960 px (`_detector`)."""


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
    Each face is named by the frame its crop comes from (counted from 0 in presentation
    order) and its place among that frame's detections, left to right; `frame_time` is that
    frame's time in seconds from the start, and `box` is in the upright picture's pixels
    (rotation metadata applied). Raises MediaError when the file is not a readable video,
    or is damaged or truncated (faces published before the damage stay published).
    """
    if sample_fps <= 0:
        raise ValueError("sample_fps must be positive")
    tracker = Tracker(
        min_hits=2,
        # About a second without the face ends its track.
        max_missed=max(2, round(sample_fps)),
        publish_after=max(2, round(publish_after_seconds * sample_fps)),
        # Measured on a real clip: a face matched itself from sample to sample with
        # likeness above 0.9 (median 0.999); the matches below 0.5 were all across cuts.
        min_likeness=0.5,
    )
    with open_video(Path(path)) as container:
        stream = container.streams.video[0]
        run = _Run(container, stream, detector, threshold, sink, tracker)
        with SampledFrames(container, stream, sample_fps, detect_max_side) as samples:
            run.run(samples)


class _Run:
    """One video's pass: detections to tracks, best views kept per track, published once."""

    def __init__(
        self,
        container: av.container.InputContainer,
        stream: av.VideoStream,
        detector: FaceDetector,
        threshold: float,
        sink: FaceSink,
        tracker: Tracker,
    ) -> None:
        self.container = container
        self.stream = stream
        self.detector = detector
        self.threshold = threshold
        self.sink = sink
        self.tracker = tracker
        self.duration = duration_of(container, stream)
        self.views: dict[int, _View] = {}
        self.published: set[int] = set()
        self.progress = 0.0

    def run(self, samples: SampledFrames) -> None:
        try:
            for sample in samples:
                self._sample(sample)
                self._report(sample.time)
        except av.FFmpegError as err:
            self._finish()
            where = f" after {samples.last_time:.1f} s" if samples.decoded else ""
            raise MediaError(f"the video is damaged or truncated{where}") from err
        self._finish()
        decoded, last_time = samples.decoded, samples.last_time
        if decoded == 0:
            if self.duration:
                raise MediaError("the video is truncated: no frame could be decoded")
            raise MediaError("the video has no frames")
        self._check_complete(decoded, last_time)
        self.sink.set_progress(1.0)

    def _sample(self, sample: Sample) -> None:
        shown_width, shown_height = sample.size
        # Scale factors back to full-size upright pixels, per axis (rounding differs).
        sx, sy = shown_width / sample.small.shape[1], shown_height / sample.small.shape[0]
        detections: list[Detection] = []
        seen: list[Seen] = []
        for d in self.detector.detect(sample.small, self.threshold):
            score = min(1.0, max(0.0, d.score))
            box = (d.x1 * sx, d.y1 * sy, d.x2 * sx, d.y2 * sy)
            detections.append(Detection(*box, score))
            seen.append(Seen(box, score, look_of(sample.small, (d.x1, d.y1, d.x2, d.y2))))
        update = self.tracker.update(sample.time, seen)

        full: Image.Image | None = None
        for index, (found, track_id) in enumerate(zip(detections, update.assigned, strict=True)):
            if track_id in self.published:
                continue
            box = pixel_box(found, shown_width, shown_height)
            quality = _quality(box, found.score, shown_width, shown_height)
            best = self.views.get(track_id)
            if best is not None and best.quality >= quality:
                continue
            if full is None:
                full = Image.fromarray(sample.full())
            # crop_face copies the region: the view does not keep the frame alive.
            crop = crop_face(full, box)
            view = _View(sample.number, index, sample.time, box, found.score, quality, crop)
            self.views[track_id] = view
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
        missing = matroska_shortfall(self.container.name)
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


def _quality(box: tuple[int, int, int, int], score: float, width: int, height: int) -> float:
    x, y, w, h = box
    quality = score * math.sqrt(w * h)
    if x <= 1 or y <= 1 or x + w >= width - 1 or y + h >= height - 1:
        quality *= 0.5
    return quality
