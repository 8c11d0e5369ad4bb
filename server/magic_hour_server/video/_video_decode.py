"""Opening and decoding videos with PyAV: checks, frame times, sampling in a background thread.

Decoding and detection run in threads of their own, at most `depth` samples ahead of the rest
of a sample's handling (alignment, embeddings, tracking), so the cores share the work (PyAV
and onnxruntime release the GIL). Only sampled frames are converted to RGB, at the
detector's working size; the decoded frame travels along so that a full-size crop can be
taken from it later, and is dropped once the sample has been handled.
"""

from __future__ import annotations

import contextlib
import dataclasses
import heapq
import math
import os
import queue
import threading
import time as time_module
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import av
import av.container
import numpy as np
from numpy.typing import NDArray

from magic_hour_server._media import MediaError
from magic_hour_server.detection._detector import Detection

VIDEO_FORMATS = frozenset({"mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "avi"})
"""FFmpeg demuxers of the video types the server accepts (mp4, m4v, mov, webm, mkv, avi)."""

MAX_PIXELS = 7680 * 4320
"""Frames larger than 8K are refused rather than decoded."""

RGB = NDArray[np.uint8]


@dataclass(frozen=True)
class VideoLimits:
    """How much of a video a task may decode: its length, its frame count, each frame's
    pixels (the decoder refuses larger frames before allocating them, whatever the
    container declared) and the task's deadline (`time.monotonic()`), checked at every
    frame. Past one, the task ends in `error` with a reason that names it."""

    max_seconds: float = 1800.0
    max_frames: int = 108_000
    max_pixels: int = MAX_PIXELS
    deadline: float | None = None
    task_seconds: float = 900.0

    def check_declared(self, duration: float | None, frames: int) -> None:
        if duration is not None and duration > self.max_seconds:
            raise MediaError(
                f"the video is {duration:.0f} s long; the limit is {self.max_seconds:g} s"
            )
        if frames > self.max_frames:
            raise MediaError(f"the video has {frames:,} frames; the limit is {self.max_frames:,}")

    def check_frame(self, number: int, time: float, frame: av.VideoFrame) -> None:
        if frame.width * frame.height > self.max_pixels:
            raise MediaError(
                f"a frame at {time:.1f} s is {frame.width}x{frame.height}, past the limit"
                f" of {self.max_pixels:,} pixels"
            )
        if time > self.max_seconds:
            raise MediaError(f"the video runs past the limit of {self.max_seconds:g} s")
        if number >= self.max_frames:
            raise MediaError(f"the video has more than {self.max_frames:,} frames (the limit)")
        if self.deadline is not None and _now() > self.deadline:
            raise MediaError(
                f"the task ran past its limit of {self.task_seconds:g} s"
                f" (at {time:.1f} s of the video)"
            )


def _now() -> float:
    return time_module.monotonic()


@dataclass(frozen=True)
class Sample:
    """A sampled frame: its number (0-based, presentation order), time, and pixels.

    `small` is upright (rotation metadata applied) at the working size; `full()` gives the
    upright full-size picture. `found` holds the faces detected in `small`, when
    `SampledFrames` was given a detector.
    """

    number: int
    time: float
    small: RGB
    frame: av.VideoFrame
    quarter_turns: int
    found: list[Detection] = field(default_factory=list)

    @property
    def size(self) -> tuple[int, int]:
        """Width and height of the upright full-size picture."""
        width, height = self.frame.width, self.frame.height
        return (height, width) if self.quarter_turns % 2 else (width, height)

    def full(self) -> RGB:
        return rotate(rgb(self.frame, self.frame.width, self.frame.height), self.quarter_turns)


def open_video(path: Path, limits: VideoLimits | None = None) -> av.container.InputContainer:
    """Open `path` for decoding, or raise MediaError saying why it is not a usable video
    (or one past `limits`, as far as its container declares)."""
    limits = limits or VideoLimits()
    try:
        size = path.stat().st_size
    except OSError as err:
        raise MediaError("the video file cannot be read") from err
    if size == 0:
        raise MediaError("the video file is empty")
    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError) as err:
        if _starts_like_video(path):
            # An MP4 whose index ('moov') was written last and then cut off, typically.
            raise MediaError("the video is truncated or damaged: its index cannot be read") from err
        raise MediaError("the file is not a readable video") from err
    try:
        if container.format.name not in VIDEO_FORMATS:
            kind = container.format.long_name
            raise MediaError(f"the file is not an mp4, mov or webm video (it looks like {kind})")
        if not container.streams.video:
            raise MediaError("the file has no video track (it may be truncated)")
        stream = container.streams.video[0]
        if stream.width <= 0 or stream.height <= 0:
            raise MediaError("the video's frame size is unknown")
        if stream.width * stream.height > limits.max_pixels:
            raise MediaError(
                f"the video's frames are {stream.width}x{stream.height}, past the limit of"
                f" {limits.max_pixels:,} pixels"
            )
        limits.check_declared(duration_of(container, stream), stream.frames or 0)
        # Whatever the container says, the decoder allocates no frame past the limit.
        stream.codec_context.options = {"max_pixels": str(limits.max_pixels)}
        # Decoding runs beside the detector, which keeps both cores busy: one decoding
        # thread costs the least CPU (a 720p H.264 stream: 0.29 s of CPU for 10 s, against
        # 0.47 s with frame threads) and keeps ahead of the detector up to 1080p. Larger
        # frames get FFmpeg's threads, or decoding would fall behind.
        if stream.width * stream.height > 1920 * 1088:
            stream.thread_type = "AUTO"
        else:
            stream.codec_context.thread_count = 1
    except BaseException:
        container.close()
        raise
    return container


def _starts_like_video(path: Path) -> bool:
    try:
        with path.open("rb") as file:
            head = file.read(12)
    except OSError:
        return False
    return head[4:8] == b"ftyp" or head.startswith(b"\x1a\x45\xdf\xa3")


def duration_of(container: av.container.InputContainer, stream: av.VideoStream) -> float | None:
    """The video's length in seconds, from the stream, else the container, else frame count."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    if stream.frames and stream.average_rate:
        return float(stream.frames / stream.average_rate)
    return None


class Frames:
    """A video's decoded frames with their number (0-based, presentation order) and time.

    `needed_from`, when given, says from what time on frames are wanted: frames before it
    that no other frame is predicted from (most B-frames) are then not decoded at all, and
    not yielded, though they keep their numbers. A frame's number is the count of packets
    with an earlier timestamp (a decoder yields frames in presentation order, so every
    earlier packet has been sent to it by then); without timestamps, frames are counted.
    After the iteration, `count` is the number of frames up to the last one decoded, and the
    frames skipped after it.
    """

    def __init__(
        self,
        container: av.container.InputContainer,
        stream: av.VideoStream,
        needed_from: Callable[[], float] | None = None,
    ) -> None:
        self.count = 0
        self._container, self._stream = container, stream
        self._needed_from = needed_from

    def __iter__(self) -> Iterator[tuple[int, float, av.VideoFrame]]:
        stream = self._stream
        time_base = stream.time_base
        rate = float(stream.average_rate or stream.guessed_rate or 25)
        origin = stream.start_time
        previous = 0.0
        sent: list[int] = []  # timestamps of the packets sent, not yet numbered (a heap)
        skipped: set[int] = set()  # timestamps sent while non-reference frames were skipped
        by_packet = time_base is not None
        for packet in self._container.demux(stream):
            if packet.size and by_packet:
                if packet.pts is None:
                    by_packet = False
                    stream.codec_context.skip_frame = "DEFAULT"
                else:
                    heapq.heappush(sent, packet.pts)
                    if self._skips(packet.pts, origin):
                        skipped.add(packet.pts)
            for frame in packet.decode():
                if frame.pts is None or time_base is None:
                    time = self.count / rate
                else:
                    if origin is None:
                        origin = frame.pts
                    time = float((frame.pts - origin) * time_base)
                if by_packet and frame.pts is not None:
                    while sent and sent[0] < frame.pts:
                        heapq.heappop(sent)
                        self.count += 1
                    if sent and sent[0] == frame.pts:
                        heapq.heappop(sent)
                # Damaged timestamps must not make time run backwards (progress, tracking).
                previous = time = max(time, previous, 0.0)
                number, self.count = self.count, self.count + 1
                yield number, time, frame
        self.count += sum(1 for pts in sent if pts in skipped)

    def _skips(self, pts: int, origin: int | None) -> bool:
        """Whether the frame of the packet at `pts` comes before the wanted time; the decoder
        is told to skip it then, if nothing else is predicted from it."""
        time_base = self._stream.time_base
        if self._needed_from is None or origin is None or time_base is None:
            return False
        # The sampler's own tolerance: a frame a rounding error early is still wanted.
        early = float((pts - origin) * time_base) + 1e-6 < self._needed_from()
        self._stream.codec_context.skip_frame = "NONREF" if early else "DEFAULT"
        return early


_END = object()


class SampledFrames:
    """Up to `sample_fps` frames per second of the video, decoded in a background thread.

    `detect`, when given, runs in a second thread on each sample's `small` picture while the
    next samples decode; its result is the sample's `found`. Use as a context manager, and
    iterate once. After the iteration, `decoded` is the number of frames decoded and
    `last_time` the time of the last one. Decoding errors (FFmpegError) are raised by the
    iteration, after the samples decoded before them.
    """

    def __init__(
        self,
        container: av.container.InputContainer,
        stream: av.VideoStream,
        sample_fps: float,
        max_side: int,
        depth: int = 2,
        detect: Callable[[RGB], list[Detection]] | None = None,
        limits: VideoLimits | None = None,
    ) -> None:
        self.decoded = 0
        self._limits = limits or VideoLimits()
        self.last_time = 0.0
        self._container, self._stream = container, stream
        self._sample_fps, self._max_side = sample_fps, max_side
        self._detect = detect
        self._stop = threading.Event()
        self._decoded: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._threads = [threading.Thread(target=self._decode, name="video-decode", daemon=True)]
        self._ready = self._decoded
        if detect is not None:
            self._ready = queue.Queue(maxsize=depth)
            self._threads.append(
                threading.Thread(target=self._find_faces, name="video-detect", daemon=True)
            )

    @property
    def max_pixels(self) -> int:
        return self._limits.max_pixels

    def __enter__(self) -> SampledFrames:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        # Unblock the threads waiting for room, then wait for them: the container closes next.
        while any(thread.is_alive() for thread in self._threads):
            for waiting in {id(q): q for q in (self._decoded, self._ready)}.values():
                with contextlib.suppress(queue.Empty):
                    waiting.get(timeout=0.02)
        for thread in self._threads:
            thread.join()

    def __iter__(self) -> Iterator[Sample]:
        while True:
            item = self._ready.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield cast(Sample, item)

    def _decode(self) -> None:
        next_sample = 0.0
        decoded = Frames(self._container, self._stream, lambda: next_sample)
        try:
            for number, time, frame in decoded:
                if self._stop.is_set():
                    return
                self._limits.check_frame(number, time, frame)
                self.decoded, self.last_time = number + 1, time
                # A small tolerance keeps a frame that falls a rounding error early.
                if time + 1e-6 < next_sample:
                    continue
                next_sample = (math.floor(time * self._sample_fps + 1e-6) + 1) / self._sample_fps
                turns = round(frame.rotation / 90) % 4
                width, height = working_size(frame.width, frame.height, self._max_side)
                small = rotate(rgb(frame, width, height), turns)
                self._put(self._decoded, Sample(number, time, small, frame, turns))
            self.decoded = decoded.count
            self._put(self._decoded, _END)
        except BaseException as err:  # handed to the consumer, which raises it
            self._put(self._decoded, err)

    def _find_faces(self) -> None:
        assert self._detect is not None
        while not self._stop.is_set():
            try:
                item = self._decoded.get(timeout=0.05)
            except queue.Empty:
                continue
            if isinstance(item, Sample):
                try:
                    item = dataclasses.replace(item, found=self._detect(item.small))
                except BaseException as err:  # handed to the consumer, which raises it
                    item = err
            self._put(self._ready, item)
            if not isinstance(item, Sample):
                return

    def _put(self, into: queue.Queue[object], item: object) -> None:
        while not self._stop.is_set():
            try:
                into.put(item, timeout=0.05)
                return
            except queue.Full:
                continue


def working_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """The detector's input size: at most `max_side`, sides rounded to multiples of 32.

    The network pads its input to multiples of 32; stretching the picture by a few percent
    instead costs nothing in accuracy and saves the padding's work. Boxes are scaled back
    per axis.
    """
    scale = min(1.0, max_side / max(width, height))
    return max(32, round(width * scale / 32) * 32), max(32, round(height * scale / 32) * 32)


def rgb(frame: av.VideoFrame, width: int, height: int) -> RGB:
    """The frame as RGB pixels, scaled to width x height (by swscale, in C).

    On one thread: swscale's own threads (one per core by default) cost more than they
    save here, where decoding and detection already use both cores. A 720p frame scaled
    to the working size takes 1.8 ms of CPU on its threads, 1.1 ms on one, with the same
    pixels; a 10 s 720p clip went from 20.7x to 23.5x real time (medians of 8, each
    alternating with the other).
    """
    pixels = frame.reformat(width=width, height=height, format="rgb24", threads=1).to_ndarray()
    return cast(RGB, pixels)


def rotate(image: RGB, quarter_turns: int) -> RGB:
    """Turn a decoded frame counterclockwise to how it is meant to be shown."""
    return np.ascontiguousarray(np.rot90(image, quarter_turns)) if quarter_turns else image


def matroska_shortfall(path: str | os.PathLike[str]) -> int:
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
