"""4. Throughput: images through `AsyncClient.generate()` against the server's own pipeline.

The yardstick is what the server's workers do for an image, minus HTTP and the task
database: `process_image` (read, detect, crop) with each face written as PNG through the
server's own file store, on as many threads as the server has workers, sharing one
detector. It runs before and after the SDK batch and the two are averaged, so that a
machine getting busier or quieter during the run does not favour either side.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ._common import Figure, Settings, Target, photo_variant, save_jpeg
from ._server import BenchServer

SECTION = "4. Throughput"
TARGET = Target(">=", 0.8)
SERVER_CPU_TARGET = Target("<=", 1.15)
CLIENT_CPU_TARGET = Target("<=", 8.0)


def run(server: BenchServer, settings: Settings, workdir: Path) -> list[Figure]:
    from magic_hour_server._config import default_workers

    folder = workdir / "throughput"
    folder.mkdir(parents=True, exist_ok=True)
    images = [
        save_jpeg(photo_variant(seed), folder / f"{seed:03d}.jpg")
        for seed in range(settings.throughput_images)
    ]
    workers = default_workers()  # what LocalServer runs by default
    # Both sides warmed up alike: the model loaded and run, the SDK imported and run.
    _direct(images[: min(8, len(images))], workers, workdir / "warmup")
    asyncio.run(
        _through_sdk(
            server, images[: min(8, len(images))], settings.concurrency, workdir / "warmup-sdk"
        )
    )
    cpu_start = time.process_time()
    before = _direct(images, workers, workdir / "direct-1")
    direct_cpu = time.process_time() - cpu_start
    cpu_start, server_cpu_start = time.process_time(), server.cpu_seconds()
    sdk_seconds, faces, polls = asyncio.run(
        _through_sdk(server, images, settings.concurrency, workdir)
    )
    client_cpu = time.process_time() - cpu_start
    server_cpu = server.cpu_seconds() - server_cpu_start
    after = _direct(images, workers, workdir / "direct-2")
    count = len(images)
    direct_rate = count / ((before + after) / 2)
    sdk_rate = count / sdk_seconds
    figure = Figure(SECTION, "AsyncClient images/s / server pipeline images/s", 0.0, "x", TARGET)
    figure.value = sdk_rate / direct_rate
    figure.context = (
        f"{count} 640x480 JPEGs, concurrency {settings.concurrency}, {workers} server workers:"
        f" SDK {sdk_rate:.1f} img/s ({faces} faces downloaded, {polls / count:.1f} polls per"
        f" image) vs pipeline"
        f" {direct_rate:.1f} img/s (runs of {before:.1f} s and {after:.1f} s);"
        f" CPU per image: pipeline {direct_cpu / count * 1000:.0f} ms, over HTTP server"
        f" {server_cpu / count * 1000:.0f} ms + client {client_cpu / count * 1000:.0f} ms"
    )
    figure.details = {
        "images": count,
        "sdk_seconds": sdk_seconds,
        "direct_seconds": [before, after],
        "faces": faces,
        "polls": polls,
        "workers": workers,
        "cpu_seconds": {"pipeline": direct_cpu, "server": server_cpu, "client": client_cpu},
    }
    server_ratio = Figure(
        SECTION,
        "server CPU per image over HTTP / the pipeline's",
        server_cpu / direct_cpu,
        "x",
        SERVER_CPU_TARGET,
        f"{server_cpu / count * 1000:.1f} vs {direct_cpu / count * 1000:.1f} ms per image",
    )
    client = Figure(
        SECTION, "client CPU per image", client_cpu / count * 1000, " ms", CLIENT_CPU_TARGET
    )
    return [figure, server_ratio, client]


def _direct(images: list[Path], workers: int, out: Path) -> float:
    """Seconds the server's pipeline takes for `images` on `workers` threads, no HTTP."""
    from magic_hour_server.detection._detector import default_detector
    from magic_hour_server.detection._processing import process_image
    from magic_hour_server.storage._storage import Files
    from magic_hour_server.tasks._records import new_id

    files = Files(out)
    detector = default_detector()

    class Sink:
        def __init__(self) -> None:
            self.task_id = new_id()

        def add_face(self, *, frame: int, index: int, crop: Any, **_: Any) -> None:
            files.save_png(self.task_id, f"{frame}-{index}.png", crop)

        def set_progress(self, fraction: float) -> None:
            pass

    def one(path: Path) -> None:
        process_image(path, detector, 0.5, Sink())

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, images))
    return time.perf_counter() - start


async def _through_sdk(
    server: BenchServer, images: list[Path], concurrency: int, workdir: Path
) -> tuple[float, int, int]:
    """Seconds for all `images` through `generate()`, `concurrency` at a time; faces saved;
    GET polls made."""
    from magic_hour import AsyncClient, TaskProgress

    polls = 0

    def count(event: object) -> None:
        nonlocal polls
        polls += isinstance(event, TaskProgress)

    limit = asyncio.Semaphore(concurrency)
    async with AsyncClient(token=server.token, base_url=server.url) as client:

        async def one(number: int, path: Path) -> int:
            async with limit:
                result = await client.v1.face_detection.generate(
                    assets={"target_file_path": str(path)},
                    download_directory=workdir / "sdk" / str(number),
                    on_progress=count,
                )
                return len(result.downloaded_paths)

        start = time.perf_counter()
        found = await asyncio.gather(*(one(n, path) for n, path in enumerate(images)))
        return time.perf_counter() - start, sum(found), polls
