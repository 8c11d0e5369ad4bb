"""Outcomes a test asks of the local server: failed, slow and throttled, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from magic_hour import Client, RateLimitError, TaskFailedError
from magic_hour_server import LocalServer

from tests.server.images import astronaut, encode

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer() as running:
        yield running


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "astronaut.png"
    path.write_bytes(encode(astronaut()))
    return path


def test_a_failed_task_with_a_reason(server: LocalServer, photo: Path) -> None:
    server.outcomes.fail_next_task("scripted failure")
    with Client(token=server.token, base_url=server.url) as client:
        with pytest.raises(TaskFailedError, match="scripted failure"):
            client.v1.face_detection.generate(assets={"target_file_path": photo})
        # Once only: the next task is detected as usual.
        res = client.v1.face_detection.generate(
            assets={"target_file_path": photo}, download_outputs=False
        )
    assert res.status == "complete" and len(res.faces) == 1


def test_a_slow_task_is_seen_rendering_first(server: LocalServer, photo: Path) -> None:
    server.outcomes.slow_next_task(2.5)
    seen: list[str] = []
    with Client(token=server.token, base_url=server.url) as client:
        res = client.v1.face_detection.generate(
            assets={"target_file_path": photo},
            download_outputs=False,
            on_progress=lambda event: seen.append(getattr(event, "status", "")),
        )
    assert res.status == "complete"
    # The first read is held for a second only, so the caller sees the task before it
    # completes.
    statuses = [status for status in seen if status]
    assert statuses[0] in ("queued", "rendering") and statuses[-1] == "complete"
    assert "rendering" in statuses


def test_throttled_requests_get_429_with_retry_after(server: LocalServer) -> None:
    server.outcomes.throttle_next_requests(1, retry_after=7)
    with (
        Client(token=server.token, base_url=server.url, max_retries=0) as client,
        pytest.raises(RateLimitError) as caught,
    ):
        client.v1.face_detection.get(id="anything")
    assert caught.value.response.headers["Retry-After"] == "7"
    assert caught.value.status_code == 429
