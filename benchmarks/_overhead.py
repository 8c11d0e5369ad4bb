"""1. SDK overhead: `generate()` on one 640x480 JPEG against the plain-httpx yardstick.

The two run in turns, swapping which goes first every run, so that drift on a shared
machine hits both alike; the figure is the median of the per-run ratios.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from . import _baseline
from ._common import Figure, Settings, Target, astronaut_640x480, median, quartiles, save_jpeg
from ._server import BenchServer

SECTION = "1. SDK overhead"
TARGET = Target("<=", 1.10)
WARMUP_RUNS = 3

# (seconds, task id, GET polls, unix time it returned) of one run.
Run = tuple[float, str, int, float]


class _Counter:
    """Counts the polls `generate()` makes (one TaskProgress event per GET)."""

    def __init__(self) -> None:
        self.polls = 0

    def __call__(self, event: object) -> None:
        from magic_hour import TaskProgress

        if isinstance(event, TaskProgress):
            self.polls += 1


def run(server: BenchServer, settings: Settings, workdir: Path) -> list[Figure]:
    image = save_jpeg(astronaut_640x480(), workdir / "astronaut-640x480.jpg")
    figures = [_sync(server, settings, image, workdir / "sync")]
    figures.append(asyncio.run(_async(server, settings, image, workdir / "async")))
    return figures


def _sync(server: BenchServer, settings: Settings, image: Path, out: Path) -> Figure:
    from magic_hour import Client

    with Client(token=server.token, base_url=server.url) as client, httpx.Client() as http:

        def sdk(number: int) -> Run:
            counter = _Counter()
            start = time.perf_counter()
            result = client.v1.face_detection.generate(
                assets={"target_file_path": str(image)},
                download_directory=out / f"sdk-{number}",
                on_progress=counter,
            )
            return time.perf_counter() - start, result.id, counter.polls, time.time()

        def raw(number: int) -> Run:
            start = time.perf_counter()
            done = _baseline.generate_sync(
                http, server.url, server.token, image, out / f"raw-{number}", server.wait_complete
            )
            return time.perf_counter() - start, done.task_id, done.polls, time.time()

        for number in range(-WARMUP_RUNS, 0):
            sdk(number)
            raw(number)
        pairs = []
        for number in range(settings.overhead_runs):
            if number % 2 == 0:
                first = sdk(number)
                pairs.append((first, raw(number)))
            else:
                second = raw(number)
                pairs.append((sdk(number), second))
    return _figure("Client.generate / raw httpx", server, pairs)


async def _async(server: BenchServer, settings: Settings, image: Path, out: Path) -> Figure:
    from magic_hour import AsyncClient

    async with (
        AsyncClient(token=server.token, base_url=server.url) as client,
        httpx.AsyncClient() as http,
    ):

        async def sdk(number: int) -> Run:
            counter = _Counter()
            start = time.perf_counter()
            result = await client.v1.face_detection.generate(
                assets={"target_file_path": str(image)},
                download_directory=out / f"sdk-{number}",
                on_progress=counter,
            )
            return time.perf_counter() - start, result.id, counter.polls, time.time()

        async def raw(number: int) -> Run:
            start = time.perf_counter()
            done = await _baseline.generate_async(
                http,
                server.url,
                server.token,
                image,
                out / f"raw-{number}",
                server.wait_complete_async,
            )
            return time.perf_counter() - start, done.task_id, done.polls, time.time()

        for number in range(-WARMUP_RUNS, 0):
            await sdk(number)
            await raw(number)
        pairs = await _pairs(settings.overhead_runs, sdk, raw)
    return _figure("AsyncClient.generate / raw httpx", server, pairs)


async def _pairs(
    count: int,
    sdk: Callable[[int], Awaitable[Run]],
    raw: Callable[[int], Awaitable[Run]],
) -> list[tuple[Run, Run]]:
    pairs = []
    for number in range(count):
        if number % 2 == 0:
            first = await sdk(number)
            pairs.append((first, await raw(number)))
        else:
            second = await raw(number)
            pairs.append((await sdk(number), second))
    return pairs


def _figure(name: str, server: BenchServer, pairs: list[tuple[Run, Run]]) -> Figure:
    sdk_times = [sdk[0] for sdk, _ in pairs]
    raw_times = [raw[0] for _, raw in pairs]
    ratios = [sdk[0] / raw[0] for sdk, raw in pairs]
    server_times = [server.task(sdk[1]).server_seconds for sdk, _ in pairs]
    # From the server marking the task complete to the call returning (the face's
    # download included, on both sides): where the two differ most.
    sdk_after = [sdk[3] - server.task(sdk[1]).updated_at for sdk, _ in pairs]
    raw_after = [raw[3] - server.task(raw[1]).updated_at for _, raw in pairs]
    low, high = quartiles(ratios)
    sdk_polls = median([sdk[2] for sdk, _ in pairs])
    raw_polls = median([raw[2] for _, raw in pairs])
    context = (
        f"SDK {median(sdk_times) * 1000:.0f} ms vs raw {median(raw_times) * 1000:.0f} ms"
        f" (median of {len(pairs)}; ratio IQR {low:.2f}-{high:.2f});"
        f" server task {median(server_times) * 1000:.0f} ms;"
        f" GET polls SDK {sdk_polls:g}, raw {raw_polls:g};"
        f" return after completion SDK {median(sdk_after) * 1000:.0f} ms,"
        f" raw {median(raw_after) * 1000:.0f} ms"
    )
    return Figure(
        SECTION,
        f"{name}, median ratio",
        median(ratios),
        "x",
        TARGET,
        context,
        details={
            "runs": len(pairs),
            "sdk_seconds": sdk_times,
            "raw_seconds": raw_times,
            "ratios": ratios,
            "server_task_seconds": server_times,
            "sdk_polls_median": sdk_polls,
            "raw_polls_median": raw_polls,
            "sdk_return_after_complete_seconds": sdk_after,
            "raw_return_after_complete_seconds": raw_after,
        },
    )
