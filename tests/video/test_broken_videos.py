"""Broken and mislabelled videos end in MediaError with a reason, never another exception."""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np
import pytest
from magic_hour_server._media import MediaError
from magic_hour_server.detection._detector import FaceDetector
from magic_hour_server.video._video import process_video
from PIL import Image

from tests.video.clips import MovingFace, astronaut_face, write_clip
from tests.video.conftest import RecordingSink

pytestmark = pytest.mark.timeout(60)
FACE = [MovingFace(astronaut_face(), 100, 0.0, 3.0, (20, 50), (180, 90))]


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("clips")
    made = {}
    for name, options in [
        ("moov-last.mp4", {}),
        ("moov-first.mp4", {"movflags": "faststart"}),
    ]:
        write_clip(folder / name, FACE, container_options=options)
        made[name] = (folder / name).read_bytes()
    webm = folder / "clip.webm"
    write_clip(webm, FACE, codec="libvpx-vp9", options={"deadline": "realtime", "cpu-used": "8"})
    made["clip.webm"] = webm.read_bytes()
    return made


def run(path: Path, detector: FaceDetector) -> tuple[RecordingSink, MediaError]:
    sink = RecordingSink()
    with pytest.raises(MediaError) as caught:
        process_video(path, detector, 0.5, sink)
    return sink, caught.value


@pytest.mark.parametrize("name", ["moov-last.mp4", "moov-first.mp4", "clip.webm"])
@pytest.mark.parametrize("kept", [0.3, 0.6, 0.9])
def test_a_truncated_video_is_an_error(
    clips: dict[str, bytes], name: str, kept: float, tmp_path: Path, detector: FaceDetector
) -> None:
    data = clips[name]
    path = tmp_path / name
    path.write_bytes(data[: int(len(data) * kept)])

    sink, error = run(path, detector)

    assert "truncated" in str(error)
    # Whatever was published before the damage is well formed.
    assert sink.progress == sorted(sink.progress)
    assert all(face.crop.width > 0 for face in sink.faces)


def test_the_whole_clips_are_fine(
    clips: dict[str, bytes], tmp_path: Path, detector: FaceDetector
) -> None:
    # The counterpart of the truncation test: the same files, whole, give the face.
    for name, data in clips.items():
        path = tmp_path / name
        path.write_bytes(data)
        sink = RecordingSink()
        process_video(path, detector, 0.5, sink)
        assert len(sink.faces) == 1, name


def test_damaged_data_in_the_middle_is_an_error(
    clips: dict[str, bytes], tmp_path: Path, detector: FaceDetector
) -> None:
    data = bytearray(clips["moov-first.mp4"])
    middle = len(data) // 2
    data[middle : middle + 2000] = np.random.default_rng(7).bytes(2000)
    path = tmp_path / "damaged.mp4"
    path.write_bytes(bytes(data))

    _, error = run(path, detector)

    assert "damaged" in str(error) or "truncated" in str(error)


def _decodes_whole(path: Path) -> bool:
    """Whether FFmpeg decodes every frame of `path` without an error: the reference."""
    try:
        with av.open(str(path)) as container:
            for _frame in container.decode(video=0):
                pass
    except av.FFmpegError:
        return False
    return True


def test_damage_is_refused_exactly_when_decoding_every_frame_fails(
    clips: dict[str, bytes], tmp_path: Path, detector: FaceDetector
) -> None:
    # The server decodes only what its samples need (frames between samples that nothing
    # is predicted from are skipped): damage must still end the way it would if every
    # frame were decoded, refused when FFmpeg fails on it, kept when FFmpeg conceals it.
    rng = np.random.default_rng(11)
    source = clips["moov-first.mp4"]
    outcomes = []
    for number in range(8):
        data = bytearray(source)
        start = int(rng.integers(len(data) // 10, len(data) * 9 // 10))
        data[start : start + 40] = rng.bytes(40)
        path = tmp_path / f"damaged-{number}.mp4"
        path.write_bytes(bytes(data))
        try:
            process_video(path, detector, 0.5, RecordingSink())
            refused = False
        except MediaError:
            refused = True
        outcomes.append((start, refused, not _decodes_whole(path)))

    assert all(refused == fails for _, refused, fails in outcomes), outcomes
    # Both kinds of damage are in the sample.
    assert 0 < sum(refused for _, refused, _ in outcomes) < len(outcomes), outcomes


def test_an_image_named_mp4_is_an_error(tmp_path: Path, detector: FaceDetector) -> None:
    buffer = io.BytesIO()
    Image.fromarray(astronaut_face()).save(buffer, format="PNG")
    path = tmp_path / "photo.mp4"
    path.write_bytes(buffer.getvalue())

    _, error = run(path, detector)

    assert "not an mp4, mov or webm video" in str(error)


def test_text_named_webm_is_an_error(tmp_path: Path, detector: FaceDetector) -> None:
    path = tmp_path / "notes.webm"
    path.write_text("these are not the frames you are looking for\n" * 50)

    _, error = run(path, detector)

    assert "not a readable video" in str(error)


def test_an_empty_file_is_an_error(tmp_path: Path, detector: FaceDetector) -> None:
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")

    _, error = run(path, detector)

    assert "empty" in str(error)


def test_a_missing_file_is_an_error(tmp_path: Path, detector: FaceDetector) -> None:
    _, error = run(tmp_path / "nowhere.mp4", detector)

    assert "cannot be read" in str(error)


def test_sound_without_pictures_is_an_error(tmp_path: Path, detector: FaceDetector) -> None:
    path = tmp_path / "sound.mp4"
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("aac", rate=44100)
        assert isinstance(stream, av.AudioStream)
        stream.layout = "mono"
        silence = np.zeros((1, 1024), dtype=np.float32)
        for number in range(20):
            frame = av.AudioFrame.from_ndarray(silence, format="fltp", layout="mono")
            frame.sample_rate = 44100
            frame.pts = number * 1024
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)

    _, error = run(path, detector)

    assert "no video track" in str(error)


@pytest.mark.parametrize(("name", "codec"), [("zero.mp4", "libx264"), ("zero.webm", "libvpx-vp9")])
def test_a_video_without_frames_is_an_error(
    name: str, codec: str, tmp_path: Path, detector: FaceDetector
) -> None:
    path = tmp_path / name
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=25)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        container.start_encoding()  # the header, and then not a single frame
    assert path.stat().st_size > 0

    sink, error = run(path, detector)

    assert sink.faces == []
    assert "video" in str(error)
