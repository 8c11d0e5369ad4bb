"""Sampling frames in background threads: the frames chosen, errors, and stopping early."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import av
import numpy as np
import pytest
from magic_hour_server.detection._detector import Detection
from magic_hour_server.video._video_decode import Frames, SampledFrames, open_video, rgb

from tests.video.clips import MovingFace, astronaut_face, write_clip

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sampling") / "clip.mp4"
    face = [MovingFace(astronaut_face(), 90, 0.0, 4.0, (10, 20), (200, 120))]
    # x264's default preset: B-frames, some of them references, in a pyramid.
    write_clip(path, face, fps=30, seconds=4.0, options={"preset": "medium"})
    return path


def every_frame(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [rgb(frame, frame.width, frame.height) for frame in container.decode(stream)]


@pytest.fixture(scope="module")
def other_clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same moving face in the other containers and codecs the server accepts."""
    folder = tmp_path_factory.mktemp("containers")
    face = [MovingFace(astronaut_face(), 90, 0.0, 3.0, (10, 20), (200, 120))]
    made = {}
    for name, codec, options in [
        ("clip.webm", "libvpx-vp9", {"deadline": "realtime", "cpu-used": "8"}),
        ("clip.avi", "mpeg4", {"bf": "2"}),  # B-frames, timestamps as AVI keeps them
        ("clip.mkv", "libx264", {"preset": "medium"}),
        ("clip.mov", "libx264", {"preset": "medium"}),
        # What phones record: HEVC in a mov.
        ("hevc.mov", "libx265", {"preset": "fast", "x265-params": "log-level=error"}),
    ]:
        write_clip(folder / name, face, fps=30, seconds=3.0, codec=codec, options=options)
        made[name] = folder / name
    return made


@pytest.mark.parametrize("name", ["clip.webm", "clip.avi", "clip.mkv", "clip.mov", "hevc.mov"])
def test_other_containers_sample_the_frames_a_full_decode_numbers_so(
    other_clips: dict[str, Path], name: str
) -> None:
    path = other_clips[name]
    frames = every_frame(path)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        origin, base = stream.start_time, stream.time_base
        pts = [frame.pts for frame in container.decode(stream) if frame.pts is not None]
    assert base is not None and len(pts) == len(frames)
    start = pts[0] if origin is None else origin
    times = [float((p - start) * base) for p in pts]
    # The first frame at or after each quarter second (AVI's timestamps start one frame in).
    quarters = range(math.floor(times[-1] * 4 + 1e-6) + 1)
    expected = [next(n for n, t in enumerate(times) if t >= k / 4 - 1e-6) for k in quarters]
    with open_video(path) as container:
        stream = container.streams.video[0]
        with SampledFrames(container, stream, 4.0, 416) as samples:
            numbers = []
            for sample in samples:
                numbers.append(sample.number)
                assert np.array_equal(sample.full(), frames[sample.number]), sample.number
        assert samples.decoded == len(frames)
    assert numbers == expected


def test_samples_are_the_frames_a_full_decode_numbers_so(clip: Path) -> None:
    frames = every_frame(clip)
    seen: list[tuple[int, float]] = []
    with open_video(clip) as container:
        stream = container.streams.video[0]
        with SampledFrames(container, stream, 4.0, 416) as samples:
            for sample in samples:
                seen.append((sample.number, sample.time))
                assert np.array_equal(sample.full(), frames[sample.number]), sample.number
        assert samples.decoded == len(frames)
    # Four a second at 30 fps: the first frame at or after each quarter second.
    assert [number for number, _ in seen] == [math.ceil(30 * k / 4) for k in range(16)]
    assert all(abs(time - number / 30) < 1e-3 for number, time in seen)


def test_detections_arrive_with_their_sample(clip: Path) -> None:
    def detect(small: np.ndarray) -> list[Detection]:
        return [Detection(0, 0, small.shape[1], small.shape[0], float(small.mean()) / 255)]

    with open_video(clip) as container:
        stream = container.streams.video[0]
        with SampledFrames(container, stream, 2.0, 416, detect=detect) as samples:
            for sample in samples:
                (found,) = sample.found
                assert found.score == pytest.approx(float(sample.small.mean()) / 255)
                assert found.x2 == sample.small.shape[1]


def test_an_error_in_detection_reaches_the_consumer_and_the_threads_end(clip: Path) -> None:
    calls = 0

    def detect(small: np.ndarray) -> list[Detection]:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("the detector failed")
        return []

    before = set(threading.enumerate())
    numbers: list[int] = []
    with open_video(clip) as container:
        stream = container.streams.video[0]
        sampling = SampledFrames(container, stream, 4.0, 416, detect=detect)
        with pytest.raises(RuntimeError, match="the detector failed"), sampling as samples:
            numbers.extend(sample.number for sample in samples)
    assert numbers == [0, 8]
    assert set(threading.enumerate()) <= before


def test_leaving_early_stops_decoding_and_detection(clip: Path) -> None:
    before = set(threading.enumerate())
    with open_video(clip) as container:
        stream = container.streams.video[0]
        with SampledFrames(container, stream, 30.0, 416, depth=1, detect=lambda _: []) as samples:
            for sample in samples:
                assert sample.number == 0
                break
        assert samples.decoded < 120
    assert set(threading.enumerate()) <= before


def test_frames_before_the_wanted_time_are_skipped_but_still_counted(clip: Path) -> None:
    total = len(every_frame(clip))
    with open_video(clip) as container:
        stream = container.streams.video[0]
        frames = Frames(container, stream, needed_from=lambda: 3.0)
        numbers = [number for number, _, _ in frames]
    # B-frames nothing refers to are not decoded: fewer frames, same numbers, same count.
    assert len(numbers) < total
    assert numbers == sorted(set(numbers))
    assert numbers[-(total - 90) :] == list(range(90, total))
    assert frames.count == total
