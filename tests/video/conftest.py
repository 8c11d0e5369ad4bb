from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from magic_hour_server.detection._detector import FaceDetector, default_detector
from PIL import Image


@pytest.fixture(scope="session")
def detector() -> FaceDetector:
    return default_detector()


@dataclass
class RecordedFace:
    frame: int
    index: int
    crop: Image.Image
    box: tuple[int, int, int, int]
    score: float
    frame_time: float | None


@dataclass
class RecordingSink:
    """A FaceSink that keeps what it is given, for assertions."""

    faces: list[RecordedFace] = field(default_factory=list)
    progress: list[float] = field(default_factory=list)

    def add_face(
        self,
        *,
        frame: int,
        index: int,
        crop: Image.Image,
        box: tuple[int, int, int, int],
        score: float,
        frame_time: float | None = None,
    ) -> None:
        self.faces.append(RecordedFace(frame, index, crop, box, score, frame_time))

    def set_progress(self, fraction: float) -> None:
        self.progress.append(fraction)

    def names(self) -> list[str]:
        return [f"{face.frame}-{face.index}.png" for face in self.faces]


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()
