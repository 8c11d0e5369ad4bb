"""8. Long-poll waiters: how many requests held by `Prefer: wait` the server carries, what
each costs in memory, and whether it stays responsive meanwhile.

A server with no workers (its tasks stay queued) and a 60 s wait cap; 2000 connections
each hold a `GET /v1/face-detection/{id}` with `Prefer: wait=60`. The server's resident
memory is read from /proc before and while they wait; the latency of plain requests
(`GET /v1/face-detection/{id}` without Prefer) is measured before and while they wait.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from ._common import MIB, Figure, Settings, median
from ._server import BenchServer

SECTION = "8. Long-poll waiters"
WAITERS = 2000


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def _latency(server: BenchServer, path: str, runs: int = 30) -> float:
    """Median ms of a plain GET, from a client of its own (the held requests' client keeps
    2000 connections in its pool, which would slow its own requests down)."""
    headers = {"Authorization": f"Bearer {server.token}"}
    times = []
    with httpx.Client(base_url=server.url, headers=headers, timeout=60) as api:
        for _ in range(runs):
            start = time.perf_counter()
            reply = api.get(path)
            times.append(time.perf_counter() - start)
            reply.raise_for_status()
    return median(times) * 1000


async def _measure(server: BenchServer, count: int) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {server.token}"}
    limits = httpx.Limits(max_connections=count + 10, max_keepalive_connections=count + 10)
    async with httpx.AsyncClient(
        base_url=server.url, headers=headers, timeout=120, limits=limits
    ) as api:
        reply = await api.post(
            "/v1/face-detection", json={"assets": {"target_file_path": "https://example.com/a.png"}}
        )
        reply.raise_for_status()
        path = f"/v1/face-detection/{reply.json()['id']}"
        pid = server.pid
        quiet_ms = await asyncio.to_thread(_latency, server, path)
        rss_before = _rss(pid)
        held = [
            asyncio.create_task(api.get(path, headers={"Prefer": "wait=60"})) for _ in range(count)
        ]
        # Until every request has reached the server and settled into its wait.
        settle_start = time.perf_counter()
        while (await api.get("/healthz")).json().get("waiting", 0) < count:
            if time.perf_counter() - settle_start > 120:
                raise RuntimeError("the held requests never all reached the server")
            await asyncio.sleep(0.2)
        settled = time.perf_counter() - settle_start
        rss_during = _rss(pid)
        busy_ms = await asyncio.to_thread(_latency, server, path)
        early = sum(task.done() for task in held)
        for task in held:
            task.cancel()
        await asyncio.gather(*held, return_exceptions=True)
    return {
        "quiet_ms": quiet_ms,
        "busy_ms": busy_ms,
        "rss_before": rss_before,
        "rss_during": rss_during,
        "answered_early": early,
        "settled_s": settled,
    }


def _request_cost(server: BenchServer, runs: int) -> dict[str, float]:
    """CPU milliseconds per request on each side: the server's process (from /proc) and
    this client's, for plain GETs of a task and for POSTs that create one."""
    headers = {"Authorization": f"Bearer {server.token}"}
    body = {"assets": {"target_file_path": "https://example.com/a.png"}}
    cost: dict[str, float] = {}
    with httpx.Client(base_url=server.url, headers=headers, timeout=60) as api:
        path = f"/v1/face-detection/{api.post('/v1/face-detection', json=body).json()['id']}"
        calls: list[tuple[str, Callable[[], httpx.Response]]] = [
            ("get", lambda: api.get(path)),
            ("post", lambda: api.post("/v1/face-detection", json=body)),
        ]
        for name, call in calls:
            call()
            server_before, client_before = server.cpu_seconds(), time.process_time()
            for _ in range(runs):
                call().raise_for_status()
            cost[f"{name}_server_ms"] = (server.cpu_seconds() - server_before) / runs * 1000
            cost[f"{name}_client_ms"] = (time.process_time() - client_before) / runs * 1000
    return cost


def guard_cost(runs: int = 20000) -> float:
    """Microseconds of CPU the connection limits (api/_guard) add to one request: its own
    httptools parse of a typical task read, and the header timer armed and cancelled."""
    import httptools
    from magic_hour_server.api._guard import _Requests

    request = (
        b"GET /v1/face-detection/0b6a8c2e-4f5d-4c1e-9a57-3f0d2b1c9e88 HTTP/1.1\r\n"
        b"Host: 127.0.0.1:8000\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\n"
        b"Connection: keep-alive\r\nUser-Agent: magic-hour-python/0.1.0\r\n"
        b"Authorization: Bearer 6f1b2c3d4e5f60718293a4b5c6d7e8f9\r\nPrefer: wait=5\r\n\r\n"
    )

    async def measure() -> float:
        loop = asyncio.get_running_loop()
        parser = httptools.HttpRequestParser(_Requests())
        started = time.process_time()
        for _ in range(runs):
            timer = loop.call_later(10.0, int)
            parser.feed_data(request)
            timer.cancel()
        return (time.process_time() - started) / runs * 1e6

    return asyncio.run(measure())


def metrics_task_cost(runs: int = 20000) -> float:
    """Microseconds of CPU the metrics add to one task beyond its requests: created,
    queued time, a slot held, an inference, running time and outcome."""
    from magic_hour_server._metrics import Metrics, kind_of_target

    metrics = Metrics()
    started = time.process_time()
    for _ in range(runs):
        kind = kind_of_target("api-assets/0b6a8c2e/input.jpg")
        metrics.tasks_created.labels(kind).inc()
        metrics.queued_seconds.labels(kind).observe(0.01)
        with metrics.worker_slots_busy.track_inprogress():
            metrics.inference_seconds.observe(0.02)
        metrics.tasks_finished.labels(kind, "complete").inc()
        metrics.running_seconds.labels(kind).observe(0.05)
    return (time.process_time() - started) / runs * 1e6


def metrics_cost(runs: int = 20000) -> float:
    """Microseconds of CPU the metrics add to one request as the server records them (its
    operation named, a counter and a histogram updated), measured in process."""
    from magic_hour_server._metrics import Metrics, operation_of

    metrics = Metrics()
    path = "/v1/face-detection/0b6a8c2e-4f5d-4c1e-9a57-3f0d2b1c9e88"
    started = time.process_time()
    for _ in range(runs):
        operation = operation_of("GET", path)
        metrics.requests.labels(operation, "200").inc()
        metrics.request_seconds.labels(operation).observe(0.004)
    return (time.process_time() - started) / runs * 1e6


def run(settings: Settings, workdir: Path) -> list[Figure]:
    count = 200 if settings.quick else WAITERS
    with BenchServer(
        workers=0,
        max_wait_seconds=60,
        allow_private_urls=True,
        max_held_polls=count + 100,
        max_connections=count + 100,
    ) as server:
        cost = _request_cost(server, 100 if settings.quick else 500)
        found = asyncio.run(_measure(server, count))
    per_waiter = (found["rss_during"] - found["rss_before"]) / count
    guard_us, metrics_us = guard_cost(), metrics_cost()
    context = (
        f"{count} requests held at once; server RSS {found['rss_before'] / MIB:.0f} -> "
        f"{found['rss_during'] / MIB:.0f} MiB; {found['answered_early']} answered before "
        f"their wait ended; all were held {found['settled_s']:.1f} s after being sent"
    )
    cost_context = (
        f"GET of a task: server {cost['get_server_ms']:.2f} ms, client "
        f"{cost['get_client_ms']:.2f} ms; POST /v1/face-detection: server "
        f"{cost['post_server_ms']:.2f} ms, client {cost['post_client_ms']:.2f} ms (CPU)"
    )
    return [
        Figure(
            SECTION,
            "server CPU per GET",
            cost["get_server_ms"],
            " ms",
            None,
            cost_context,
            dict(cost),
        ),
        Figure(SECTION, "server CPU per POST (create)", cost["post_server_ms"], " ms"),
        Figure(
            SECTION,
            "connection limits' CPU per request / server CPU per GET",
            guard_us / (cost["get_server_ms"] * 1000),
            "x",
            None,
            f"{guard_us:.1f} us a request (api/_guard's own parse and header timer,"
            f" measured in process) against {cost['get_server_ms'] * 1000:.0f} us per GET;"
            " per image: section 4",
        ),
        Figure(
            SECTION,
            "metrics' CPU per request / server CPU per GET",
            metrics_us / (cost["get_server_ms"] * 1000),
            "x",
            None,
            f"{metrics_us:.1f} us a request (operation, counter, histogram; measured in"
            f" process) against {cost['get_server_ms'] * 1000:.0f} us per GET; per image:"
            " section 4",
        ),
        Figure(SECTION, "memory per held request", per_waiter / 1024, " KiB", None, context),
        Figure(
            SECTION,
            "plain GET latency while they wait / idle",
            found["busy_ms"] / found["quiet_ms"],
            "x",
            None,
            f"median {found['busy_ms']:.1f} ms against {found['quiet_ms']:.1f} ms idle",
        ),
    ]
