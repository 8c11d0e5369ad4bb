"""Videos through the real server: upload, task, worker, stored faces, signed face URLs."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from magic_hour_server import LocalServer
from PIL import Image

from tests.video.clips import MovingFace, astronaut_face, cameraman_face, write_clip
from tests.video.people import built_clip

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]
FPS = 25


@pytest.fixture(scope="module")
def api() -> Iterator[httpx.Client]:
    with (
        LocalServer() as server,
        httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}, timeout=30
        ) as client,
    ):
        yield client


def detect_video(api: httpx.Client, data: bytes, extension: str = "mp4") -> dict[str, Any]:
    reply = api.post(
        "/v1/files/upload-urls", json={"items": [{"type": "video", "extension": extension}]}
    )
    assert reply.status_code == 200, reply.text
    item = reply.json()["items"][0]
    assert httpx.put(item["upload_url"], content=data, timeout=30).status_code == 200
    body = {"assets": {"target_file_path": item["file_path"]}, "confidence_score": 0.5}
    reply = api.post("/v1/face-detection", json=body)
    assert reply.status_code == 200, reply.text
    task_id = reply.json()["id"]
    deadline = time.monotonic() + 90
    while True:
        task: dict[str, Any] = api.get(f"/v1/face-detection/{task_id}").json()
        if task["status"] in {"complete", "error"}:
            return task
        assert time.monotonic() < deadline, f"task still {task['status']}"
        time.sleep(0.1)


def two_people_clip(folder: Path) -> bytes:
    people = [
        MovingFace(astronaut_face(), 110, 0.0, 3.0, (10, 60), (60, 80)),
        MovingFace(cameraman_face(), 110, 0.0, 3.0, (200, 70), (170, 90)),
    ]
    write_clip(folder / "two.mp4", people, fps=FPS, seconds=3.0)
    return (folder / "two.mp4").read_bytes()


def test_a_video_task_gives_one_face_per_person(api: httpx.Client, tmp_path: Path) -> None:
    task = detect_video(api, two_people_clip(tmp_path))

    assert task["status"] == "complete", task.get("error_message")
    assert task["progress"] == 1.0
    assert len(task["faces"]) == 2
    for face in task["faces"]:
        match = re.fullmatch(rf"api-assets/{task['id']}/(\d+)-(\d+)\.png", face["path"])
        assert match is not None, face["path"]
        frame = int(match.group(1))
        assert face["frame"] == frame
        assert face["frame_time"] == pytest.approx(frame / FPS, abs=1e-3)
        assert 0.5 <= face["score"] <= 1.0
        image = Image.open(io.BytesIO(httpx.get(face["url"], timeout=30).content))
        assert image.format == "PNG"
        assert image.width >= face["box"]["width"] and image.height >= face["box"]["height"]
    lefts = sorted(face["box"]["x"] for face in task["faces"])
    assert lefts[0] < 160 < lefts[1]  # one on each side of the frame


def test_a_truncated_video_ends_in_error_and_the_worker_carries_on(
    api: httpx.Client, tmp_path: Path
) -> None:
    whole = two_people_clip(tmp_path)

    broken = detect_video(api, whole[: len(whole) // 2])
    again = detect_video(api, whole)

    assert broken["status"] == "error"
    assert "truncated" in broken["error_message"]
    assert again["status"] == "complete"
    assert len(again["faces"]) == 2


def test_a_cut_off_webm_ends_in_error_with_a_reason(api: httpx.Client, tmp_path: Path) -> None:
    clip = tmp_path / "clip.webm"
    people = [MovingFace(cameraman_face(), 110, 0.0, 3.0, (100, 50), (140, 70))]
    write_clip(clip, people, fps=FPS, codec="libvpx-vp9", options={"deadline": "realtime"})
    data = clip.read_bytes()

    task = detect_video(api, data[: int(len(data) * 0.8)], "webm")

    assert task["status"] == "error"
    assert "truncated" in task["error_message"]


def test_the_servers_sample_rate_decides_which_frames_are_looked_at(tmp_path: Path) -> None:
    # At one sample a second, only frames 0, 25 and 50 of a 25 fps clip are looked at, so
    # every face comes from one of them; at the default 4 a second, from others as well.
    data = two_people_clip(tmp_path)
    with (
        LocalServer(video_sample_fps=1.0) as server,
        httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}, timeout=30
        ) as slow,
    ):
        task = detect_video(slow, data)
    assert task["status"] == "complete", task.get("error_message")
    assert len(task["faces"]) == 2
    assert {face["frame"] for face in task["faces"]} <= {0, 25, 50}


def test_a_person_cut_away_and_back_is_one_face_of_the_task(
    api: httpx.Client, tmp_path: Path
) -> None:
    clip = built_clip("cut-away-and-back")
    task = detect_video(api, clip.write(tmp_path / "clip.mp4").read_bytes())

    assert task["status"] == "complete", task.get("error_message")
    shown = sorted(
        str(clip.who(face["frame"], tuple(face["box"][k] for k in ("x", "y", "width", "height"))))
        for face in task["faces"]
    )
    assert shown == ["astronaut", "cameraman"]


def test_unusable_faces_are_left_out_unless_the_server_keeps_all(
    api: httpx.Client, tmp_path: Path
) -> None:
    clip = built_clip("dark-blurred-background-face")
    clip.faces = [(name, face) for name, face in clip.faces if not clip.usable[name]]
    data = clip.write(tmp_path / "clip.mp4").read_bytes()

    task = detect_video(api, data)
    with (
        LocalServer(keep_all_faces=True) as server,
        httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}, timeout=30
        ) as keeping,
    ):
        kept = detect_video(keeping, data)

    # Every face unusable: the task still completes, with nothing to list.
    assert task["status"] == "complete", task.get("error_message")
    assert task["faces"] == []
    assert kept["status"] == "complete", kept.get("error_message")
    assert len(kept["faces"]) == 1
