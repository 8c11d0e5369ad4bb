"""2. One photo's latency: create -> `complete` seen by a plain client, against the detector.

A plain httpx client uploads one 640x480 JPEG once, then, run after run, creates a task
for it and polls it every 10 ms (no `Prefer: wait`) until it reads `complete`. The
yardstick is the best fp32 graph run bare in onnxruntime on that photo's network input,
on as many threads as the server's detector, timed in the same rounds: each round runs the
bare graph a few times, then one task, so that both see the same machine.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import httpx

from ._baseline import _create_request, _headers, _upload_request
from ._common import Figure, Settings, Target, astronaut_640x480, median, quartiles, save_jpeg
from ._server import BenchServer

SECTION = "2. One photo's latency"
TARGET = Target("<=", 2.5)
POLL_GAP = 0.010
BARE_RUNS_PER_ROUND = 5


def run(server: BenchServer, settings: Settings, workdir: Path) -> list[Figure]:
    from magic_hour_server.detection._detector_model import INPUT, OUTPUTS, fp32_model
    from magic_hour_server.detection._preprocess import network_input

    from ._detection import _bare_session

    image = save_jpeg(astronaut_640x480(), workdir / "photo-latency.jpg")
    blob, _ = network_input(astronaut_640x480(), 1.0)
    bare = _bare_session(fp32_model(), os.cpu_count() or 1)
    auth = _headers(server.token)
    with httpx.Client(base_url=server.url, headers=auth) as http:
        item = http.post("/v1/files/upload-urls", json=_upload_request("jpg"))
        item = item.raise_for_status().json()["items"][0]
        http.put(item["upload_url"], content=image.read_bytes()).raise_for_status()
        body = _create_request(item["file_path"])

        def one_task() -> tuple[float, int]:
            start = time.perf_counter()
            task_id = http.post("/v1/face-detection", json=body).raise_for_status().json()["id"]
            polls = 0
            while True:
                task: dict[str, Any] = http.get(f"/v1/face-detection/{task_id}").json()
                polls += 1
                if task["status"] in ("complete", "error"):
                    break
                time.sleep(POLL_GAP)
            if task["status"] != "complete":
                raise RuntimeError(f"task {task_id} failed: {task.get('error_message')}")
            return time.perf_counter() - start, polls

        def bare_graph() -> float:
            start = time.perf_counter()
            bare.run(OUTPUTS, {INPUT: blob})
            return time.perf_counter() - start

        for _ in range(3):  # warm-up: the detector loads on first use
            one_task()
            bare_graph()
        tasks, graphs, polls = [], [], []
        for _ in range(settings.photo_latency_runs):
            graphs += [bare_graph() for _ in range(BARE_RUNS_PER_ROUND)]
            took, count = one_task()
            tasks.append(took)
            polls.append(count)
    task_ms, graph_ms = median(tasks) * 1000, median(graphs) * 1000
    low, high = quartiles([t * 1000 for t in tasks])
    context = (
        f"{task_ms:.0f} vs {graph_ms:.1f} ms (medians of {len(tasks)} tasks, IQR"
        f" {low:.0f}-{high:.0f} ms, and {len(graphs)} bare runs); a plain client polling every"
        f" {POLL_GAP * 1000:.0f} ms, {median(polls):.0f} GETs per task"
    )
    name = "create -> complete / bare fp32 graph, 640x480"
    figure = Figure(SECTION, name, task_ms / graph_ms, "x", TARGET, context)
    figure.details = {"task_ms": [t * 1000 for t in tasks], "graph_ms": [g * 1000 for g in graphs]}
    return [figure]
