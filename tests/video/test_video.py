"""process_video on real clips built from real face photographs, with the real detector."""

from __future__ import annotations

from pathlib import Path

import pytest
from magic_hour_server.detection._detector import FaceDetector
from magic_hour_server.video._video import process_video

from tests.video.clips import MovingFace, astronaut_face, cameraman_face, face_box, write_clip
from tests.video.conftest import RecordedFace, RecordingSink

FPS = 25
pytestmark = pytest.mark.timeout(60)


def owner(face: RecordedFace, people: list[MovingFace]) -> int | None:
    """Which person's pasted picture holds the centre of the recorded face at its frame."""
    x, y, w, h = face.box
    cx, cy = x + w / 2, y + h / 2
    for number, person in enumerate(people):
        place = face_box(person, face.frame / FPS)
        if place is not None:
            px, py, pw, ph = place
            if px <= cx <= px + pw and py <= cy <= py + ph:
                return number
    return None


def test_two_faces_for_three_seconds_give_exactly_two_entries(
    tmp_path: Path, detector: FaceDetector, sink: RecordingSink
) -> None:
    people = [
        MovingFace(astronaut_face(), 110, 0.0, 3.0, (10, 60), (60, 80)),
        MovingFace(cameraman_face(), 110, 0.0, 3.0, (200, 70), (170, 90)),
    ]
    clip = tmp_path / "two.mp4"
    write_clip(clip, people, fps=FPS, seconds=3.0)

    process_video(clip, detector, 0.5, sink)

    assert len(sink.faces) == 2
    assert {owner(face, people) for face in sink.faces} == {0, 1}
    assert len(set(sink.names())) == 2
    for face in sink.faces:
        assert face.frame_time == pytest.approx(face.frame / FPS, abs=1e-3)
        assert 0.5 <= face.score <= 1.0
        # The crop holds the box with a margin, so it is at least as large as the box.
        assert face.crop.width >= face.box[2] and face.crop.height >= face.box[3]


def test_a_face_moving_steadily_gives_one_entry(
    tmp_path: Path, detector: FaceDetector, sink: RecordingSink
) -> None:
    # It crosses most of the frame: at 4 samples a second that is 12 detections.
    people = [MovingFace(astronaut_face(), 100, 0.0, 3.0, (-20, 30), (240, 130))]
    clip = tmp_path / "moving.mp4"
    write_clip(clip, people, fps=FPS, seconds=3.0)

    process_video(clip, detector, 0.5, sink)

    assert len(sink.faces) == 1
    assert owner(sink.faces[0], people) == 0
    # The best view is not one where the face is cut off by the frame's left edge.
    assert sink.faces[0].box[0] > 0


def test_a_face_that_appears_halfway_is_taken_from_a_frame_after_it_appears(
    tmp_path: Path, detector: FaceDetector, sink: RecordingSink
) -> None:
    people = [
        MovingFace(astronaut_face(), 110, 0.0, 4.0, (20, 60), (40, 60)),
        MovingFace(cameraman_face(), 110, 2.0, 4.0, (200, 60), (180, 80)),
    ]
    clip = tmp_path / "halfway.mp4"
    write_clip(clip, people, fps=FPS, seconds=4.0)

    process_video(clip, detector, 0.5, sink)

    assert len(sink.faces) == 2
    late = [face for face in sink.faces if owner(face, people) == 1]
    assert len(late) == 1
    assert late[0].frame >= 2.0 * FPS


def test_progress_grows_and_ends_at_one(
    tmp_path: Path, detector: FaceDetector, sink: RecordingSink
) -> None:
    clip = tmp_path / "progress.mp4"
    write_clip(clip, [], fps=FPS, seconds=3.0)

    process_video(clip, detector, 0.5, sink)

    assert sink.faces == []
    assert len(sink.progress) >= 5
    assert sink.progress == sorted(sink.progress)
    assert sink.progress[-1] == 1.0
    assert all(0.0 < value <= 1.0 for value in sink.progress)


def test_a_long_visit_is_published_before_the_video_ends(
    tmp_path: Path, detector: FaceDetector, sink: RecordingSink
) -> None:
    people = [MovingFace(astronaut_face(), 110, 0.0, 4.0, (20, 60), (120, 60))]
    clip = tmp_path / "long.mp4"
    write_clip(clip, people, fps=FPS, seconds=4.0)
    published_at: list[float] = []

    class Watching(RecordingSink):
        def add_face(self, **face: object) -> None:
            published_at.append(self.progress[-1] if self.progress else 0.0)
            super().add_face(**face)  # type: ignore[arg-type]

    watching = Watching()
    process_video(clip, detector, 0.5, watching, publish_after_seconds=1.0, hold_seconds=1.0)

    assert len(watching.faces) == 1
    assert published_at[0] < 0.5


def test_webm_clips_work_too(tmp_path: Path, detector: FaceDetector, sink: RecordingSink) -> None:
    people = [MovingFace(cameraman_face(), 110, 0.0, 2.0, (100, 50), (140, 70))]
    clip = tmp_path / "clip.webm"
    options = {"deadline": "realtime", "cpu-used": "8"}
    write_clip(clip, people, fps=FPS, seconds=2.0, codec="libvpx-vp9", options=options)

    process_video(clip, detector, 0.5, sink)

    assert [owner(face, people) for face in sink.faces] == [0]


@pytest.mark.parametrize(
    ("name", "codec", "pix_fmt", "options"),
    [
        ("rotated.mp4", "libx264", "yuv420p", {}),
        # As an iPhone records by default: 10-bit HEVC in a mov.
        ("rotated.mov", "libx265", "yuv420p10le", {"x265-params": "log-level=error"}),
    ],
)
def test_rotation_metadata_is_honoured(
    tmp_path: Path,
    detector: FaceDetector,
    sink: RecordingSink,
    name: str,
    codec: str,
    pix_fmt: str,
    options: dict[str, str],
) -> None:
    # Stored sideways (turned clockwise) with a display matrix that turns it back upright,
    # the way phones record portrait video. Unrotated, the detector sees a sideways face.
    # Low in the upright picture, so that a box in stored (sideways) coordinates would be
    # near the top and miss it.
    people = [MovingFace(astronaut_face(), 120, 0.0, 2.0, (10, 185), (20, 190))]
    clip = tmp_path / name
    write_clip(
        clip, people, width=240, height=320, fps=FPS, seconds=2.0, rotate=True,
        codec=codec, pix_fmt=pix_fmt, options=options,
    )  # fmt: skip

    process_video(clip, detector, 0.5, sink)

    assert len(sink.faces) == 1
    # The box is in the upright picture's coordinates: 240 wide, 320 high.
    assert owner(sink.faces[0], people) == 0
    x, y, w, h = sink.faces[0].box
    assert x + w <= 240 and y + h <= 320


def test_sample_fps_is_validated(tmp_path: Path, detector: FaceDetector) -> None:
    with pytest.raises(ValueError, match="sample_fps"):
        process_video(tmp_path / "x.mp4", detector, 0.5, RecordingSink(), sample_fps=0)


def test_confidence_zero_still_gives_one_entry_for_the_real_face(
    tmp_path: Path, detector: FaceDetector, sink: RecordingSink
) -> None:
    # At 0 the detector reports every faint blob too; they must not split the face's track.
    people = [MovingFace(astronaut_face(), 100, 0.0, 3.0, (10, 50), (200, 80))]
    clip = tmp_path / "faint.mp4"
    write_clip(clip, people, fps=FPS, seconds=3.0)

    process_video(clip, detector, 0.0, sink)

    confident = [face for face in sink.faces if face.score >= 0.5]
    assert len(confident) == 1
    assert owner(confident[0], people) == 0
    assert len(set(sink.names())) == len(sink.faces)


def test_another_person_in_the_same_place_after_a_cut_is_another_entry(
    tmp_path: Path, detector: FaceDetector, sink: RecordingSink
) -> None:
    # Motion alone would join them (same place, same size); their colours tell them apart.
    people = [
        MovingFace(astronaut_face(), 120, 0.0, 1.5, (100, 60), (100, 60)),
        MovingFace(cameraman_face(), 120, 1.5, 3.0, (100, 60), (100, 60)),
    ]
    clip = tmp_path / "cut.mp4"
    write_clip(clip, people, fps=FPS, seconds=3.0)

    process_video(clip, detector, 0.5, sink)

    assert sorted(face.frame >= 1.5 * FPS for face in sink.faces) == [False, True]
    assert {owner(face, people) for face in sink.faces} == {0, 1}


def test_boxes_of_a_frame_scaled_down_for_the_detector_are_in_the_frame_pixels(
    tmp_path: Path, detector: FaceDetector, sink: RecordingSink
) -> None:
    # 640x360 is larger than the detector's working size for video: boxes found on the
    # scaled-down picture must come back in the frame's own pixels, crops at full size.
    people = [
        MovingFace(astronaut_face(), 90, 0.0, 2.0, (60, 200), (90, 220)),
        MovingFace(cameraman_face(), 90, 0.0, 2.0, (480, 40), (450, 60)),
    ]
    clip = tmp_path / "wide.mp4"
    write_clip(clip, people, width=640, height=360, fps=FPS, seconds=2.0)

    process_video(clip, detector, 0.5, sink)

    assert {owner(face, people) for face in sink.faces} == {0, 1}
    assert len(sink.faces) == 2
    for face in sink.faces:
        assert face.box[3] > 45  # a face 90 px high (forehead to chin about 60) in the frame
        assert face.crop.height >= face.box[3]
