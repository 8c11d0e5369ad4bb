"""The detector settings through a real server: int8 precision, multi-scale photos."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pytest
from magic_hour_server import LocalServer
from magic_hour_server._config import Settings
from PIL import Image

from tests.server.conftest import detect
from tests.server.images import astronaut, encode

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def _client(server: LocalServer) -> httpx.Client:
    headers = {"Authorization": f"Bearer {server.token}"}
    return httpx.Client(base_url=server.url, headers=headers, timeout=30)


def small_faces_photo() -> bytes:
    canvas = Image.new("RGB", (1920, 1080), (90, 90, 90))
    small = Image.fromarray(astronaut()).resize((72, 72))  # faces about 18 px tall
    for k in range(6):
        canvas.paste(small, (100 + k * 300, 400))
    return encode(np.asarray(canvas), "JPEG", quality=95)


def test_an_int8_server_detects_and_keeps_its_graph_in_the_data_directory(
    tmp_path: Path,
) -> None:
    with (
        LocalServer(data_dir=tmp_path, detector_precision="int8") as server,
        _client(server) as api,
    ):
        task = detect(api, encode(astronaut()))
    assert task["status"] == "complete", task.get("error_message")
    assert len(task["faces"]) == 1
    assert list((tmp_path / "models").glob("centerface-int8-*.onnx"))


def test_multi_scale_finds_the_small_faces_of_a_photo(tmp_path: Path) -> None:
    photo = small_faces_photo()
    with LocalServer(multi_scale_detection=True) as server, _client(server) as api:
        multi = detect(api, photo, "jpg")
    with LocalServer() as server, _client(server) as api:
        single = detect(api, photo, "jpg")
    assert multi["status"] == single["status"] == "complete"
    assert len(single["faces"]) == 0
    assert len(multi["faces"]) == 6


def test_an_unknown_precision_is_refused() -> None:
    with pytest.raises(ValueError, match="detector_precision must be 'fp32' or 'int8'"):
        Settings(data_dir=Path("x"), tokens=["t"], detector_precision="int4")
