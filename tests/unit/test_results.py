"""What the SDK returns reads as plain Python: an absent optional field is None, a
result's repr shows its values, and `to_dict()` gives the API's shape back."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from magic_hour import FaceDetectionResult
from magic_hour._results import Face, Task, plain_task
from magic_hour_client.models import DetectedFace, FaceDetection
from magic_hour_client.types import Unset

from tests.document import example
from tests.unit.conftest import FakeApi, Harness


def _optional_fields(model: type) -> set[str]:
    # The generated modules use `from __future__ import annotations`: types are text.
    return {f.name for f in attrs.fields(model) if "Unset" in str(f.type)}


@pytest.mark.parametrize(("generated", "plain"), [(FaceDetection, Task), (DetectedFace, Face)])
def test_every_optional_field_of_the_document_is_plain(
    generated: type, plain: type[Task] | type[Face]
) -> None:
    """A regenerated document that adds an optional field fails here until `_results`
    lists it: no new field brings the generator's UNSET into a result."""
    assert _optional_fields(generated) == set(plain.OPTIONAL)
    for name in plain.OPTIONAL:
        assert attrs.fields_dict(plain)[name].default is None


def _body_without_extensions() -> dict[str, object]:
    """A task as the hosted API sends it: every required field (from the document's
    schemas), none of the optional ones."""
    face = {k: v for k, v in example("DetectedFace").items() if k not in Face.OPTIONAL}
    body = example("FaceDetection", faces=[face])
    return {k: v for k, v in body.items() if k not in Task.OPTIONAL}


def test_absent_fields_are_none_and_the_repr_shows_values() -> None:
    task = plain_task(FaceDetection.from_dict(_body_without_extensions()))
    assert task.progress is None and task.error_message is None
    (face,) = task.faces
    assert isinstance(face, Face) and isinstance(face, DetectedFace)
    assert (face.box, face.score, face.frame, face.frame_time) == (None, None, None, None)
    for text in (repr(task), repr(face)):
        assert "Unset" not in text and " at 0x" not in text
    assert "progress=None" in repr(task) and f"id={task.id!r}" in repr(task)
    assert not any(isinstance(getattr(task, f.name), Unset) for f in attrs.fields(Task))


def test_to_dict_gives_back_what_the_api_sent() -> None:
    body = _body_without_extensions()
    assert plain_task(FaceDetection.from_dict(body)).to_dict() == body
    full = example("FaceDetection", faces=[example("DetectedFace")], progress=0.5)
    assert plain_task(FaceDetection.from_dict(full)).to_dict() == full


@pytest.mark.anyio
async def test_get_and_generate_return_plain_results(
    sdk: Harness, api: FakeApi, tmp_path: Path
) -> None:
    api.faces = [{"path": "api-assets/task-1/0-0.png", "url": "https://storage.test/a/0-0.png"}]
    task = await sdk(lambda v1: v1.face_detection.get(id="task-1"))
    assert isinstance(task, Task) and task.progress is None
    result = await sdk(
        lambda v1: v1.face_detection.generate(
            assets={"target_file_path": "https://cdn.test/in.png"}, download_directory=tmp_path
        )
    )
    assert isinstance(result, FaceDetectionResult) and isinstance(result, Task)
    assert result.error_message is None and result.faces[0].score is None
    assert "Unset" not in repr(result)
