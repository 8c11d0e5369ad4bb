"""4. Throughput: images through `AsyncClient.generate()` against the server's own pipeline.

The yardstick is what the server's workers do for an image, minus HTTP and the task
database: `process_image` (read, detect, crop) with each face written as PNG through the
server's own file store, on as many threads as the server has workers, sharing one
detector. Pipeline and SDK runs alternate, pipeline first and last (P S P S P S P), and
each SDK run is divided by the mean of the two pipeline runs around it, so that a machine
getting busier or quieter during the run favours neither side; the figures are the
medians over the SDK runs, each run's in the details.

Beside each SDK run, in alternating order, plain httpx makes the same five requests per
image at the same concurrency (`_baseline.generate_held`: upload URL, PUT, create, held
poll, face download; httpx's own client, no retries, no validation, no atomic writes):
the floor for the client's CPU and the throughput any httpx client gets here. Beside
those, aiohttp makes the same requests (`_baseline.generate_held_aiohttp`): what they cost
a Python client that is not built on httpx. Both run only against a server that holds
polls, and so does the SDK over its opt-in `AiohttpTransport` (the `aiohttp` extra).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import httpx

from . import _baseline
from ._common import Figure, Settings, Target, median, photo_variant, save_jpeg
from ._server import BenchServer

SECTION = "4. Throughput"
TARGET = Target(">=", 0.8)
SERVER_CPU_TARGET = Target("<=", 1.15)
CLIENT_CPU_TARGET = Target("<=", 8.0)
CLIENT_VS_HTTPX_TARGET = Target("<=", 1.15)  # issue 38: the SDK's client CPU over httpx's own
LIMITS_TARGET = Target("<=", 0.02)  # issue 37: the connection limits cost at most 2%
METRICS_TARGET = Target("<=", 0.03)  # issue 39: metrics on / off at most 1.03


def run(server: BenchServer, settings: Settings, workdir: Path) -> list[Figure]:
    from magic_hour_server._config import default_workers

    folder = workdir / "throughput"
    folder.mkdir(parents=True, exist_ok=True)
    images = [
        save_jpeg(photo_variant(seed), folder / f"{seed:03d}.jpg")
        for seed in range(settings.throughput_images)
    ]
    count = len(images)
    workers = default_workers()  # what LocalServer runs by default
    # Both sides warmed up alike: the model loaded and run, the SDK imported and run.
    _direct(images[: min(8, count)], workers, workdir / "warmup")
    asyncio.run(
        _through_sdk(server, images[: min(8, count)], settings.concurrency, workdir / "warmup-sdk")
    )
    yardstick = server.holds_polls
    if yardstick:
        warm = images[: min(8, count)]
        asyncio.run(_through_httpx(server, warm, settings.concurrency, workdir / "warmup-httpx"))
        asyncio.run(_through_aiohttp(server, warm, settings.concurrency, workdir / "warmup-aio"))
        asyncio.run(
            _through_sdk_aiohttp(server, warm, settings.concurrency, workdir / "warmup-sdk-aio")
        )

    def pipeline(number: int) -> tuple[float, float]:
        """Seconds and CPU seconds of one pipeline run."""
        cpu_start = time.process_time()
        seconds = _direct(images, workers, workdir / f"direct-{number}")
        return seconds, time.process_time() - cpu_start

    def measured(through: str, number: int) -> dict[str, float]:
        """Seconds, images per second and CPU per image (client, server) of one run."""
        cpu_start, server_cpu_start = time.process_time(), server.cpu_seconds()
        folder = workdir / f"{through}-{number}"
        clients = {
            "sdk": _through_sdk,
            "httpx": _through_httpx,
            "aiohttp": _through_aiohttp,
            "sdk-aiohttp": _through_sdk_aiohttp,
        }
        seconds, faces, polls = asyncio.run(
            clients[through](server, images, settings.concurrency, folder)
        )
        return {
            "seconds": seconds,
            "images_per_second": count / seconds,
            "client_cpu_ms": (time.process_time() - cpu_start) / count * 1000,
            "server_cpu_ms": (server.cpu_seconds() - server_cpu_start) / count * 1000,
            "faces": faces,
            "polls": polls,
        }

    pipelines = [pipeline(0)]
    rounds: list[dict[str, Any]] = []
    for number in range(settings.throughput_rounds):
        # Plain httpx and aiohttp beside the SDK (over httpx, then over aiohttp), the order
        # turned round in every other round.
        order = ["sdk", "httpx", "aiohttp", "sdk-aiohttp"][:: 1 if number % 2 == 0 else -1]
        runs = {
            through: measured(through, number) for through in order if yardstick or through == "sdk"
        }
        sdk = runs["sdk"]
        pipelines.append(pipeline(number + 1))
        (before, before_cpu), (after, after_cpu) = pipelines[-2:]
        direct_cpu = (before_cpu + after_cpu) / 2
        pipeline_rate = count / ((before + after) / 2)
        round_ = {
            "throughput": sdk["images_per_second"] / pipeline_rate,
            "server_cpu_ratio": sdk["server_cpu_ms"] / (direct_cpu / count * 1000),
            "client_cpu_ms": sdk["client_cpu_ms"],
            "server_cpu_ms": sdk["server_cpu_ms"],
            "pipeline_cpu_ms": direct_cpu / count * 1000,
            "sdk_images_per_second": sdk["images_per_second"],
            "pipeline_images_per_second": pipeline_rate,
            "sdk_seconds": sdk["seconds"],
            "pipeline_seconds": [before, after],
            "faces": sdk["faces"],
            "polls": sdk["polls"],
        }
        if "httpx" in runs:
            plain = runs["httpx"]
            round_["httpx_throughput"] = plain["images_per_second"] / pipeline_rate
            round_["httpx_client_cpu_ms"] = plain["client_cpu_ms"]
            round_["httpx_server_cpu_ms"] = plain["server_cpu_ms"]
            round_["httpx_polls"] = plain["polls"]
            round_["client_cpu_vs_httpx"] = sdk["client_cpu_ms"] / plain["client_cpu_ms"]
        if "aiohttp" in runs:
            aio = runs["aiohttp"]
            round_["aiohttp_throughput"] = aio["images_per_second"] / pipeline_rate
            round_["aiohttp_client_cpu_ms"] = aio["client_cpu_ms"]
            round_["aiohttp_server_cpu_ms"] = aio["server_cpu_ms"]
        if "sdk-aiohttp" in runs and "httpx" in runs and "aiohttp" in runs:
            over = runs["sdk-aiohttp"]
            round_["sdk_aiohttp_throughput"] = over["images_per_second"] / pipeline_rate
            round_["sdk_aiohttp_client_cpu_ms"] = over["client_cpu_ms"]
            round_["sdk_aiohttp_server_cpu_ms"] = over["server_cpu_ms"]
            round_["sdk_aiohttp_vs_httpx"] = over["client_cpu_ms"] / runs["httpx"]["client_cpu_ms"]
            round_["sdk_aiohttp_vs_aiohttp"] = (
                over["client_cpu_ms"] / runs["aiohttp"]["client_cpu_ms"]
            )
        rounds.append(round_)

    def middle(key: str) -> float:
        return median([round_[key] for round_ in rounds])

    def each(key: str, digits: int) -> str:
        return ", ".join(f"{round_[key]:.{digits}f}" for round_ in rounds)

    figure = Figure(
        SECTION,
        "AsyncClient images/s / server pipeline images/s",
        middle("throughput"),
        "x",
        TARGET,
    )
    figure.context = (
        f"{count} 640x480 JPEGs, concurrency {settings.concurrency}, {workers} server workers,"
        f" {len(rounds)} SDK run{'s' if len(rounds) != 1 else ''} between pipeline runs"
        f" ({each('throughput', 2)}): SDK"
        f" {middle('sdk_images_per_second'):.1f} img/s"
        f" ({rounds[-1]['faces']} faces downloaded,"
        f" {median([r['polls'] for r in rounds]) / count:.1f} polls per image) vs pipeline"
        f" {middle('pipeline_images_per_second'):.1f} img/s;"
        f" CPU per image: pipeline {middle('pipeline_cpu_ms'):.0f} ms, over HTTP server"
        f" {middle('server_cpu_ms'):.0f} ms + client {middle('client_cpu_ms'):.0f} ms (medians)"
    )
    figure.details = {"images": count, "workers": workers, "rounds": rounds}
    server_ratio = Figure(
        SECTION,
        "server CPU per image over HTTP / the pipeline's",
        middle("server_cpu_ratio"),
        "x",
        SERVER_CPU_TARGET,
        f"{middle('server_cpu_ms'):.1f} vs {middle('pipeline_cpu_ms'):.1f} ms per image"
        f" (medians; each run: {each('server_cpu_ratio', 2)})",
    )
    client = Figure(
        SECTION,
        "client CPU per image",
        middle("client_cpu_ms"),
        " ms",
        CLIENT_CPU_TARGET,
        f"median; each run: {each('client_cpu_ms', 1)} ms",
    )
    costs = _limits_and_metrics(middle("server_cpu_ms"), rounds, count)
    figures = [figure, server_ratio, client, *costs]
    if yardstick:
        figures += [
            Figure(
                SECTION,
                "plain httpx images/s / server pipeline images/s",
                middle("httpx_throughput"),
                "x",
                None,
                "the same five requests per image at the same concurrency, httpx's own"
                f" client (medians; each run: {each('httpx_throughput', 2)});"
                f" {median([r['httpx_polls'] for r in rounds]) / count:.1f} polls per image",
            ),
            Figure(
                SECTION,
                "client CPU per image, plain httpx",
                middle("httpx_client_cpu_ms"),
                " ms",
                None,
                f"median; each run: {each('httpx_client_cpu_ms', 1)} ms; server"
                f" {middle('httpx_server_cpu_ms'):.1f} ms per image meanwhile",
            ),
            Figure(
                SECTION,
                "AsyncClient client CPU per image / plain httpx's",
                middle("client_cpu_vs_httpx"),
                "x",
                CLIENT_VS_HTTPX_TARGET,
                f"median of the runs' ratios: {each('client_cpu_vs_httpx', 2)}",
            ),
            Figure(
                SECTION,
                "plain aiohttp images/s / server pipeline images/s",
                middle("aiohttp_throughput"),
                "x",
                None,
                "the same five requests per image at the same concurrency, without httpx"
                f" (medians; each run: {each('aiohttp_throughput', 2)})",
            ),
            Figure(
                SECTION,
                "client CPU per image, plain aiohttp",
                middle("aiohttp_client_cpu_ms"),
                " ms",
                None,
                f"median; each run: {each('aiohttp_client_cpu_ms', 1)} ms; server"
                f" {middle('aiohttp_server_cpu_ms'):.1f} ms per image meanwhile",
            ),
            Figure(
                SECTION,
                "AsyncClient over AiohttpTransport images/s / server pipeline images/s",
                middle("sdk_aiohttp_throughput"),
                "x",
                None,
                "generate() with the aiohttp extra's transport, the same images and"
                f" concurrency (medians; each run: {each('sdk_aiohttp_throughput', 2)})",
            ),
            Figure(
                SECTION,
                "client CPU per image, AsyncClient over AiohttpTransport",
                middle("sdk_aiohttp_client_cpu_ms"),
                " ms",
                CLIENT_CPU_TARGET,
                f"median; each run: {each('sdk_aiohttp_client_cpu_ms', 1)} ms; server"
                f" {middle('sdk_aiohttp_server_cpu_ms'):.1f} ms per image meanwhile",
            ),
            Figure(
                SECTION,
                "AsyncClient over AiohttpTransport client CPU per image / plain httpx's",
                middle("sdk_aiohttp_vs_httpx"),
                "x",
                CLIENT_VS_HTTPX_TARGET,
                f"median of the runs' ratios: {each('sdk_aiohttp_vs_httpx', 2)}; against"
                f" plain aiohttp's: {middle('sdk_aiohttp_vs_aiohttp'):.2f}x"
                f" ({each('sdk_aiohttp_vs_aiohttp', 2)})",
            ),
        ]
    return figures


def _limits_and_metrics(
    server_ms: float, rounds: list[dict[str, Any]], images: int
) -> list[Figure]:
    """What the connection limits and the metrics cost a photo's task, against the server
    CPU per image measured above: their own work measured in process (section 8 has it
    per request), times the requests a photo takes (upload URL, upload, create, the
    polls, the face)."""
    from ._waiters import guard_cost, metrics_cost, metrics_task_cost

    polls = median([r["polls"] for r in rounds]) / images
    requests = 4 + polls
    guard_us, request_us, task_us = guard_cost(), metrics_cost(), metrics_task_cost()
    per_image_us = server_ms * 1000
    return [
        Figure(
            SECTION,
            "connection limits' CPU per image / server CPU per image",
            guard_us * requests / per_image_us,
            "x",
            LIMITS_TARGET,
            f"{guard_us:.1f} us a request x {requests:.1f} requests against {server_ms:.1f} ms",
        ),
        Figure(
            SECTION,
            "metrics' CPU per image / server CPU per image",
            (request_us * requests + task_us) / per_image_us,
            "x",
            METRICS_TARGET,
            f"{request_us:.1f} us a request x {requests:.1f} requests + {task_us:.1f} us a"
            f" task against {server_ms:.1f} ms",
        ),
    ]


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
    server: BenchServer,
    images: list[Path],
    concurrency: int,
    workdir: Path,
    transport: httpx.AsyncBaseTransport | None = None,
) -> tuple[float, int, int]:
    """Seconds for all `images` through `generate()`, `concurrency` at a time; faces saved;
    GET polls made."""
    from magic_hour import AsyncClient, TaskProgress

    polls = 0

    def count(event: object) -> None:
        nonlocal polls
        polls += isinstance(event, TaskProgress)

    limit = asyncio.Semaphore(concurrency)
    async with AsyncClient(token=server.token, base_url=server.url, transport=transport) as client:

        async def one(number: int, path: Path) -> int:
            async with limit:
                result = await client.v1.face_detection.generate(
                    assets={"target_file_path": str(path)},
                    # One folder for all: the SDK makes a folder per task in it, as
                    # plain httpx makes one per image (the same directories made).
                    download_directory=workdir / "sdk",
                    on_progress=count,
                )
                return len(result.downloaded_paths)

        start = time.perf_counter()
        found = await asyncio.gather(*(one(n, path) for n, path in enumerate(images)))
        return time.perf_counter() - start, sum(found), polls


async def _through_sdk_aiohttp(
    server: BenchServer, images: list[Path], concurrency: int, workdir: Path
) -> tuple[float, int, int]:
    """`_through_sdk` over the `aiohttp` extra's `AiohttpTransport`."""
    from magic_hour import AiohttpTransport

    return await _through_sdk(server, images, concurrency, workdir, AiohttpTransport())


async def _through_httpx(
    server: BenchServer, images: list[Path], concurrency: int, workdir: Path
) -> tuple[float, int, int]:
    """`_through_sdk` in plain httpx (`_baseline.generate_held`): seconds, faces, GETs."""
    async with httpx.AsyncClient() as http:
        one = partial(_baseline.generate_held, http, server.url, server.token)
        return await _all_of(images, concurrency, one, workdir / "httpx")


async def _through_aiohttp(
    server: BenchServer, images: list[Path], concurrency: int, workdir: Path
) -> tuple[float, int, int]:
    """`_through_httpx` in aiohttp (`_baseline.generate_held_aiohttp`)."""
    async with aiohttp.ClientSession(raise_for_status=True) as http:
        one = partial(_baseline.generate_held_aiohttp, http, server.url, server.token)
        return await _all_of(images, concurrency, one, workdir / "aiohttp")


async def _all_of(
    images: list[Path],
    concurrency: int,
    one: Callable[[Path, Path], Awaitable[_baseline.RawRun]],
    out: Path,
) -> tuple[float, int, int]:
    """Seconds for `one(image, folder)` of all `images`, `concurrency` at a time, each
    saving its faces in a folder of `out`; faces saved; GET polls made."""
    limit = asyncio.Semaphore(concurrency)

    async def limited(number: int, path: Path) -> _baseline.RawRun:
        async with limit:
            return await one(path, out / str(number))

    start = time.perf_counter()
    done = await asyncio.gather(*(limited(n, path) for n, path in enumerate(images)))
    seconds = time.perf_counter() - start
    return seconds, sum(run.faces for run in done), sum(run.polls for run in done)
