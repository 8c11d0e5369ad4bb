"""What the API may add without breaking the SDK: new enum values, an `error` object."""

from __future__ import annotations

import pytest
from magic_hour import TaskFailedError, UnexpectedTaskStatusError
from magic_hour_client.models import AssetType, FaceDetection, FaceDetectionStatus

from .conftest import FakeApi, Harness, task_body


def test_an_unknown_status_is_kept_typed_and_round_trips() -> None:
    task = FaceDetection.from_dict(task_body("t", "canceled", []))
    assert isinstance(task.status, FaceDetectionStatus)
    assert task.status == "canceled" and str(task.status) == "canceled"
    assert task.status not in (FaceDetectionStatus.COMPLETE, FaceDetectionStatus.ERROR)
    assert task.to_dict()["status"] == "canceled"
    # Known values are the members themselves, as before.
    assert FaceDetectionStatus("complete") is FaceDetectionStatus.COMPLETE


def test_an_unknown_asset_type_is_kept() -> None:
    assert AssetType("hologram") == "hologram"
    with pytest.raises(ValueError, match="is not a valid"):
        AssetType(3)  # type: ignore[arg-type]  # not a string: still refused


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_generate_stops_on_a_status_it_does_not_know(kind: str) -> None:
    api = FakeApi()
    api.statuses = ["queued", "rendering", "canceled"]
    sdk = Harness(kind, api)

    with pytest.raises(UnexpectedTaskStatusError) as caught:
        await sdk(
            lambda v1: v1.face_detection.generate(
                assets={"target_file_path": "https://cdn.test/p.png"}
            )
        )

    error = caught.value
    assert isinstance(error, TaskFailedError)
    assert error.status == "canceled"
    assert "'canceled'" in str(error) and "task-1" in str(error)
    assert api.polls == 3  # no waiting on past it


@pytest.mark.parametrize(
    ("extra", "message", "code"),
    [
        ({"error_message": "the file is not an image"}, "the file is not an image", None),
        ({"error": {"code": "invalid_media", "message": "bad file"}}, "bad file", "invalid_media"),
        (
            {"error_message": "ours", "error": {"code": 42, "message": "theirs"}},
            "ours",
            "42",
        ),
        ({"error": "not an object"}, None, None),
        ({}, None, None),
    ],
)
def test_a_failed_task_says_why_from_either_field(
    extra: dict[str, object], message: str | None, code: str | None
) -> None:
    task = FaceDetection.from_dict(task_body("t", "error", [], **extra))
    error = TaskFailedError(task)
    assert error.error_message == message
    assert error.error_code == code
    assert (message or "no reason given") in str(error)
