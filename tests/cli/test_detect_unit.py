"""The detect command's decisions, without a server: where it runs, what it says."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import httpx
import pytest
from magic_hour import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    DownloadFinished,
    PaymentRequiredError,
    TaskCreated,
    TaskFailedError,
    TaskProgress,
    TaskTimeoutError,
    UploadProgress,
)
from magic_hour.cli import build_parser
from magic_hour.cli._detect import UsageError, confidence, resolve_target
from magic_hour.cli._job import _draw_preview, _Tracker
from magic_hour.cli._messages import HOSTED_URL, check_input, describe, kind_of
from magic_hour.cli._progress import ProgressBoard
from magic_hour.cli._report import FaceRecord
from magic_hour_client.models import FaceDetection
from PIL import Image

from tests.document import example


def _args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["detect", "x.png", *argv])


@pytest.mark.parametrize("text", ["0", "0.05", "0.15", "0.3", "0.35", "0.7", "0.95", "1"])
def test_every_multiple_of_005_is_a_valid_confidence(text: str) -> None:
    assert confidence(text) == pytest.approx(float(text))


@pytest.mark.parametrize("text", ["0.33", "-0.05", "1.05", "nan", "half", "inf"])
def test_other_confidences_are_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=r"multiple of 0\.05"):
        confidence(text)


def test_no_settings_means_the_embedded_server() -> None:
    target = resolve_target(_args(), {})
    assert target.mode == "local" and "no API set" in target.reason


def test_a_token_alone_means_the_hosted_api() -> None:
    target = resolve_target(_args(), {"MAGIC_HOUR_API_TOKEN": "k"})
    assert (target.mode, target.base_url, target.token) == ("remote", HOSTED_URL, "k")


def test_base_url_option_wins_over_the_environment() -> None:
    env = {"MAGIC_HOUR_API_TOKEN": "k", "MAGIC_HOUR_BASE_URL": "http://env:1"}
    assert resolve_target(_args("--base-url", "http://opt:2/"), env).base_url == "http://opt:2"
    assert resolve_target(_args(), env).base_url == "http://env:1"


def test_local_wins_over_everything() -> None:
    env = {"MAGIC_HOUR_API_TOKEN": "k", "MAGIC_HOUR_BASE_URL": "http://env:1"}
    assert resolve_target(_args("--local"), env).mode == "local"


def test_a_base_url_needs_a_token_and_a_scheme() -> None:
    with pytest.raises(UsageError, match="set MAGIC_HOUR_API_TOKEN"):
        resolve_target(_args("--base-url", "http://h:1"), {})
    with pytest.raises(UsageError, match="http:// or https://"):
        resolve_target(_args("--base-url", "h:1"), {"MAGIC_HOUR_API_TOKEN": "k"})


def test_inputs_are_checked_before_any_request(tmp_path: Path) -> None:
    (tmp_path / "a.JPG").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "folder.png").mkdir()
    assert check_input(tmp_path / "a.JPG") is None
    assert kind_of(tmp_path / "a.JPG") == "image" and kind_of(Path("c.mov")) == "video"
    assert check_input(tmp_path / "missing.png") == "file not found: check the path"
    assert "unsupported file type .txt" in (check_input(tmp_path / "notes.txt") or "")
    assert "mp4" in (check_input(tmp_path / "notes.txt") or "")
    assert "is a folder" in (check_input(tmp_path / "folder.png") or "")
    (tmp_path / "README").write_text("x")
    assert "(no extension)" in (check_input(tmp_path / "README") or "")


def _response(status: int, message: str) -> httpx.Response:
    request = httpx.Request("GET", "http://api/v1/face-detection/1")
    return httpx.Response(status, json={"message": message}, request=request)


def _task(status: str, error: str | None = None) -> FaceDetection:
    body = example("FaceDetection", id="t1", credits_charged=0, status=status, faces=[])
    body.pop("error_message", None)
    if error:
        body["error_message"] = error
    return FaceDetection.from_dict(body)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (AuthenticationError("Unauthorized", response=_response(401, "x"), body=None), "401"),
        (PaymentRequiredError("no", response=_response(402, "x"), body=None), "credits"),
        (
            APIConnectionError(request=httpx.Request("GET", "http://api/")),
            "cannot reach http://api",
        ),
        (APITimeoutError(request=httpx.Request("GET", "http://api/")), "raise --timeout"),
        (TaskFailedError(_task("error", "not an image")), "failed on the server: not an image"),
        (TaskTimeoutError(_task("rendering"), 5), "(last status: rendering): raise --timeout"),
        (TimeoutError(), "not done within 5 s (last status: queued)"),
        (ValueError("unsupported extension 'gif'"), "unsupported extension 'gif'"),
        (PermissionError(13, "Permission denied", "out/x"), "permission denied: out/x"),
        (RuntimeError("boom"), "unexpected error: RuntimeError: boom"),
    ],
)
def test_errors_become_one_line_that_says_what_to_do(error: Exception, expected: str) -> None:
    message = describe(error, base_url="http://api", timeout=5, status="queued")
    assert expected in message
    assert "\n" not in message


def test_tracker_turns_sdk_events_into_bar_updates() -> None:
    board = ProgressBoard(
        io.StringIO(), enabled=True, total=1, min_interval=0.0, terminal_size=lambda: (100, 20)
    )
    board.start("k", "clip.mp4")
    tracker = _Tracker(board, "k")

    def row() -> str:
        return board.lines()[1]

    tracker(UploadProgress("clip.mp4", 512, 1024))
    assert "upload" in row() and "50%" in row() and "512 B / 1.0 KiB" in row()
    tracker(TaskCreated("t1", 0))
    assert "queued" in row() and tracker.status == "queued"
    tracker(TaskProgress("t1", "rendering", 0.25, 2))
    assert "detect" in row() and "25%" in row() and "2 faces so far" in row()
    tracker(TaskProgress("t1", "complete", 1.0, 2))
    tracker(DownloadFinished("http://x/0-0.png", "/tmp/0-0.png"))
    assert "download" in row() and "1/2 faces" in row() and "50%" in row()


def test_faces_without_boxes_give_crops_and_a_note_not_a_preview(tmp_path: Path) -> None:
    source = tmp_path / "in.png"
    Image.new("RGB", (50, 50), "grey").save(source)
    faces = [FaceRecord(file=str(tmp_path / "0-0.png"), url="u", path="p")]  # as hosted
    preview, note = _draw_preview("image", source, faces, tmp_path)
    assert preview is None and note is not None and "no face boxes" in note
    assert not (tmp_path / "preview.png").exists()


def test_video_faces_become_a_captioned_contact_sheet(tmp_path: Path) -> None:
    for name in ("12-0.png", "40-1.png"):
        Image.new("RGB", (30, 40), "red").save(tmp_path / name)
    faces = [
        FaceRecord(file=f"out/clip/{n}", url="u", path="p", frame=f, frame_time=t)
        for n, f, t in (("12-0.png", 12, 0.5), ("40-1.png", 40, 1.66))
    ]
    preview, note = _draw_preview("video", tmp_path / "clip.mp4", faces, tmp_path)
    assert (preview, note) == ("preview.png", None)
    with Image.open(tmp_path / "preview.png") as sheet:
        assert sheet.width > 2 * 160
