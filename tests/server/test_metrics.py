"""`/metrics`: what was run is what is counted, in Prometheus' format, with labels that
stay few however many tasks pass; the queue's figures come from the store."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from magic_hour_server import LocalServer
from prometheus_client.parser import text_string_to_metric_families

from tests.server.conftest import start, upload, wait
from tests.server.images import astronaut, encode
from tests.video.clips import MovingFace, astronaut_face, write_clip

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]


def scrape(url: str) -> dict[str, float]:
    """Every sample of `/metrics` as `name{label="value",...}` -> value, parsed by
    prometheus_client's own parser."""
    reply = httpx.get(f"{url}/metrics", timeout=30)
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(reply.text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}"] = sample.value
    return samples


def total(samples: dict[str, float], name: str, **labels: str) -> float:
    wanted = [f'{k}="{v}"' for k, v in labels.items()]
    return sum(
        value
        for key, value in samples.items()
        if key.split("{")[0] == name and all(w in key for w in wanted)
    )


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalServer, dict[str, float]]]:
    """Five photos (one that is not a photo, so it fails) and a video, through a server
    of its own; then its metrics."""
    clip = tmp_path_factory.mktemp("clip") / "clip.mp4"
    write_clip(clip, [MovingFace(astronaut_face(), 110, 0.0, 3.0, (20, 40), (150, 60))],
               fps=25, seconds=3.0)  # fmt: skip
    with LocalServer() as server:
        headers = {"Authorization": f"Bearer {server.token}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as api:
            photo = upload(api, encode(astronaut()))
            broken = upload(api, b"\x89PNG\r\n\x1a\n and nothing of an image")
            video = upload(api, clip.read_bytes(), "mp4")
            ids = [start(api, photo) for _ in range(4)] + [start(api, broken), start(api, video)]
            outcomes = [wait(api, task_id, timeout=120)["status"] for task_id in ids]
            assert outcomes == ["complete"] * 4 + ["error", "complete"]
            api.get("/v1/face-detection/not-a-task-id")  # a 404
        yield server, scrape(server.url)


def test_tasks_are_counted_by_kind_and_outcome(ran: tuple[LocalServer, dict[str, float]]) -> None:
    _, samples = ran
    assert total(samples, "magic_hour_tasks_created_total", kind="photo") == 5
    assert total(samples, "magic_hour_tasks_created_total", kind="video") == 1
    finished = "magic_hour_tasks_finished_total"
    assert total(samples, finished, kind="photo", outcome="complete") == 4
    assert total(samples, finished, kind="photo", outcome="error") == 1
    assert total(samples, finished, kind="video", outcome="complete") == 1
    created = total(samples, "magic_hour_tasks_created_total")
    assert total(samples, finished) == created  # none lost, none counted twice
    assert total(samples, "magic_hour_task_running_seconds_count") == created
    assert total(samples, "magic_hour_task_queued_seconds_count") == created
    # One inference per photo (the broken one never reaches it), more for the video.
    assert total(samples, "magic_hour_detector_inference_seconds_count") > 4
    assert total(samples, "magic_hour_queue_depth") == 0
    assert total(samples, "magic_hour_oldest_queued_age_seconds") == 0
    assert total(samples, "magic_hour_store_up") == 1
    assert total(samples, "magic_hour_worker_slots") >= 1
    assert total(samples, "magic_hour_worker_slots_busy") == 0


def test_requests_are_counted_by_operation_and_status(
    ran: tuple[LocalServer, dict[str, float]],
) -> None:
    _, samples = ran
    requests = "magic_hour_http_requests_total"
    assert total(samples, requests, operation="create", status="200") == 6
    assert total(samples, requests, operation="createUploadUrls", status="200") == 3
    assert total(samples, requests, operation="upload", status="200") == 3
    assert total(samples, requests, operation="get", status="404") == 1
    assert total(samples, requests, operation="get", status="200") >= 6
    latency = "magic_hour_http_request_duration_seconds_count"
    assert total(samples, latency, operation="create") == 6


def test_no_label_holds_an_id_a_token_or_a_url(ran: tuple[LocalServer, dict[str, float]]) -> None:
    server, samples = ran
    values = {
        part.split("=", 1)[1].strip('"')
        for key in samples
        for part in key.split("{", 1)[1].rstrip("}").split(",")
        if "=" in part
    }
    allowed = {"photo", "video", "complete", "error", "+Inf"}
    operations = {"create", "get", "createUploadUrls", "upload", "download", "healthz"}
    operations |= {"readyz", "metrics", "openapi", "other"}
    for value in values:
        assert value in allowed | operations or value.isdigit() or _is_number(value), value
    assert server.token not in str(samples)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_the_exposition_stays_the_same_size_after_thousands_of_tasks(tmp_path: Path) -> None:
    with LocalServer(workers=0) as server:  # tasks queue; nothing runs
        headers = {"Authorization": f"Bearer {server.token}"}
        body = {"assets": {"target_file_path": "https://example.com/a.png"}}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as api:
            first = [api.post("/v1/face-detection", json=body).json()["id"] for _ in range(20)]
            for task_id in first:
                api.get(f"/v1/face-detection/{task_id}").raise_for_status()
                api.get("/v1/face-detection/missing")
            httpx.get(f"{server.url}/metrics")  # the scrape is a request too
            before = httpx.get(f"{server.url}/metrics").text
            ids = [api.post("/v1/face-detection", json=body).json()["id"] for _ in range(2000)]
            for task_id in ids[::10]:
                api.get(f"/v1/face-detection/{task_id}").raise_for_status()
                api.get(f"/v1/face-detection/{task_id}x")
            after = httpx.get(f"{server.url}/metrics").text
    assert len(after.splitlines()) == len(before.splitlines())
    assert not any(task_id in after for task_id in ids)
    assert "magic_hour_queue_depth 2020.0" in after


def test_the_queue_age_grows_while_no_worker_runs_and_resets_when_one_does(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    with LocalServer(data_dir=data, workers=0) as server:  # the workers are stopped
        headers = {"Authorization": f"Bearer {server.token}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as api:
            photo = upload(api, encode(astronaut()))
            for _ in range(3):
                start(api, photo)
        first = scrape(server.url)
        time.sleep(1.2)
        later = scrape(server.url)
        token = server.token
    assert total(first, "magic_hour_queue_depth") == 3
    assert total(later, "magic_hour_oldest_queued_age_seconds") >= (
        total(first, "magic_hour_oldest_queued_age_seconds") + 1
    )
    with LocalServer(data_dir=data, tokens=[token], workers=1) as server:  # they return
        deadline = time.monotonic() + 60
        while total(scrape(server.url), "magic_hour_queue_depth") > 0:
            assert time.monotonic() < deadline, "the queue did not drain"
            time.sleep(0.2)
        drained = scrape(server.url)
    assert total(drained, "magic_hour_oldest_queued_age_seconds") == 0


def test_metrics_need_no_token_and_are_not_part_of_the_api(
    ran: tuple[LocalServer, dict[str, float]],
) -> None:
    server, _ = ran
    assert httpx.get(f"{server.url}/metrics").status_code == 200  # no Authorization
    document = httpx.get(f"{server.url}/openapi.yaml").text
    assert "/metrics" not in document
