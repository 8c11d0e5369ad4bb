"""One entry per person: labelled clips built from real photographs, the real detector and
the real embedding model (`people_clips.json` holds the labels)."""

from __future__ import annotations

from pathlib import Path

import pytest
from magic_hour_server.detection._detector import FaceDetector
from magic_hour_server.detection._embedder import FaceEmbedder, default_embedder
from magic_hour_server.detection._face_quality import UsableLimits
from magic_hour_server.video._video import MAX_EMBEDDINGS_PER_SAMPLE, VideoPeople, process_video

from tests.video.clips import MovingFace, astronaut_face, cameraman_face, write_clip
from tests.video.conftest import RecordingSink
from tests.video.people import built_clip, built_clips, score

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def embedder() -> FaceEmbedder:
    return default_embedder()


def run(
    clip_path: Path,
    detector: FaceDetector,
    embedder: FaceEmbedder,
    *,
    keep_all: bool = False,
    sink: RecordingSink | None = None,
) -> VideoPeople:
    limits = UsableLimits(keep_all=keep_all)
    return process_video(
        clip_path, detector, 0.5, sink or RecordingSink(), embedder=embedder, limits=limits
    )


@pytest.mark.parametrize("name", [clip.name for clip in built_clips()])
def test_every_labelled_clip_lists_each_usable_person_once(
    name: str, tmp_path: Path, detector: FaceDetector, embedder: FaceEmbedder
) -> None:
    clip = built_clip(name)
    sink = RecordingSink()

    found = run(clip.write(tmp_path / f"{name}.mp4"), detector, embedder, sink=sink)

    result = score(clip, found)
    assert result.missed == [], result.summary()
    assert result.duplicated == [], result.summary()
    assert result.unusable_reported == 0, result.summary()
    assert result.merged == [], result.summary()
    # What reached the sink is what the result lists, in the same order.
    assert [(f.frame, f.index) for f in sink.faces] == [
        (e.view.frame, e.view.index) for e in found.entries
    ]


def test_a_person_cut_away_and_back_is_one_person_with_two_tracks(
    tmp_path: Path, detector: FaceDetector, embedder: FaceEmbedder
) -> None:
    clip = built_clip("cut-away-and-back")

    found = run(clip.write(tmp_path / "clip.mp4"), detector, embedder)

    astronaut_tracks = {
        seen.track
        for seen in found.observations
        if clip.who(seen.frame, seen.box) == "astronaut" and seen.track in found.person_of_track
    }
    assert len(astronaut_tracks) >= 2  # the cut ended the first track...
    assert len({found.person_of_track[t] for t in astronaut_tracks}) == 1  # ...not the person
    # Her entry is the close-up after the cut, not the wide shot she was first seen in.
    (entry,) = [e for e in found.entries if clip.who(e.view.frame, e.view.box) == "astronaut"]
    assert entry.view.time >= 3.0


def test_a_dark_blurred_background_face_is_an_entry_only_when_keeping_all(
    tmp_path: Path, detector: FaceDetector, embedder: FaceEmbedder
) -> None:
    clip = built_clip("dark-blurred-background-face")
    path = clip.write(tmp_path / "clip.mp4")

    default = score(clip, run(path, detector, embedder))
    kept = score(clip, run(path, detector, embedder, keep_all=True))

    assert default.entries == {"cameraman": 1}
    assert kept.entries == {"cameraman": 1, "astronaut in the dark": 1}


def test_the_best_view_is_the_sharp_one_not_the_first(
    tmp_path: Path, detector: FaceDetector, embedder: FaceEmbedder
) -> None:
    clip = built_clip("blurred-then-sharp")
    path = clip.write(tmp_path / "clip.mp4")

    found = run(path, detector, embedder)
    everything = run(path, detector, embedder, keep_all=True)

    (entry,) = found.entries
    assert entry.view.time >= 1.5  # the sharp half
    # The blurred half was usable, so sharpness chose, not the usability line.
    assert everything.entries[0].view.frame == entry.view.frame
    blurred = UsableLimits()
    assert entry.view.quality.unusable_reason(blurred) is None


def test_a_video_whose_every_face_is_unusable_completes_with_no_entries(
    tmp_path: Path, detector: FaceDetector, embedder: FaceEmbedder
) -> None:
    clip = built_clip("dark-blurred-background-face")
    clip.faces = [(name, face) for name, face in clip.faces if not clip.usable[name]]
    sink = RecordingSink()

    found = run(clip.write(tmp_path / "clip.mp4"), detector, embedder, sink=sink)

    assert found.observations  # the face was seen...
    assert found.entries == [] and sink.faces == []  # ...and left out
    assert sink.progress[-1] == 1.0


def test_a_crowd_is_bounded_by_the_embeddings_per_sample(
    tmp_path: Path, detector: FaceDetector, embedder: FaceEmbedder
) -> None:
    # 24 faces in a grid for 2 s: at 4 samples a second, 8 samples of 24 faces each.
    faces = [
        MovingFace(
            astronaut_face() if (row + col) % 2 else cameraman_face(),
            84,
            0.0,
            2.0,
            (6 + col * 89, 8 + row * 116),
            (8 + col * 89, 10 + row * 116),
        )
        for row in range(3)
        for col in range(8)
    ]
    path = tmp_path / "crowd.mp4"
    write_clip(path, faces, width=720, height=360, fps=25, seconds=2.0)

    found = run(path, detector, embedder)

    samples = len({seen.frame for seen in found.observations})
    assert samples >= 7
    assert 0 < found.embeddings <= MAX_EMBEDDINGS_PER_SAMPLE * samples < 24 * samples
    # Copies of one photograph side by side are different people: they share frames.
    assert len(found.entries) == 24
