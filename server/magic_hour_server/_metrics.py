"""Prometheus metrics: what an operator scales on, pages on and reads while it runs.

Every process keeps its own registry (`Metrics.registry`): an API process serves it at
`/metrics`, a worker process on `--metrics-port`, the all-in-one server both sets on its
one port. Counters count what this process did; Prometheus sums them across processes.
The queue's depth and the age of its oldest task are read from the store at scrape time
by API processes only, so each reports the same store and none double-counts: take the
`max` of them across API processes, never the `sum`. Labels are few and fixed
(operation, status, kind, outcome): never a task id, a token or a URL.

What each metric means, and which to scale and page on: docs/operations.md.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger("magic_hour_server.metrics")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
KINDS = ("photo", "video")
# HTTP answers: from a held long-poll's 30 s down to a cached read's millisecond.
_REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
# A task: a photo in a tenth of a second, a long video in many minutes.
_TASK_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)
_INFERENCE_BUCKETS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5)

_OPERATIONS = {
    ("POST", "/v1/face-detection"): "create",
    ("POST", "/v1/files/upload-urls"): "createUploadUrls",
    ("GET", "/healthz"): "healthz",
    ("GET", "/readyz"): "readyz",
    ("GET", "/metrics"): "metrics",
    ("GET", "/openapi.yaml"): "openapi",
}


def operation_of(method: str, path: str) -> str:
    """The request's operation, from a fixed set: the label never holds a path's ids."""
    known = _OPERATIONS.get((method, path))
    if known is not None:
        return known
    if method == "GET" and path.startswith("/v1/face-detection/") and path.count("/") == 3:
        return "get"
    if path.startswith("/api-assets/"):
        return "upload" if method == "PUT" else "download"
    return "other"


def kind_of_target(target: str) -> str:
    """ "video" or "photo", by the target's extension (what a create is known by)."""
    from magic_hour_server._media import VIDEO_EXTENSIONS

    name = target.split("?", 1)[0].rsplit("/", 1)[-1]
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return "video" if extension in VIDEO_EXTENSIONS else "photo"


class QueueSource(Protocol):
    """What the scrape reads from the store."""

    def queue_stats(self) -> tuple[int, float | None]: ...


class _Queue(Collector):
    """The queue, read from the store at each scrape. A store that does not answer (a
    database restart) gives `magic_hour_store_up 0` and no queue figures, never an error
    that would lose the rest of the scrape."""

    def __init__(self, store: QueueSource) -> None:
        self._store = store

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "magic_hour_store_up", "1 when the task store answered this scrape, else 0"
        )
        try:
            depth, oldest = self._store.queue_stats()
        except Exception as err:  # the scrape answers whatever the database does
            log.warning("metrics: the task store did not answer: %s", type(err).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily(
            "magic_hour_queue_depth", "Tasks queued and not yet claimed by a worker", value=depth
        )
        age = 0.0 if oldest is None else max(0.0, time.time() - oldest)
        yield GaugeMetricFamily(
            "magic_hour_oldest_queued_age_seconds",
            "Seconds the oldest queued task has waited (0 when none waits)",
            value=age,
        )


class Metrics:
    """This process's metrics (`watch_queue` adds the queue's, in API processes)."""

    def __init__(self) -> None:
        registry = self.registry = CollectorRegistry()
        self.requests = Counter(
            "magic_hour_http_requests",
            "HTTP requests answered, by operation and status",
            ["operation", "status"],
            registry=registry,
        )
        self.request_seconds = Histogram(
            "magic_hour_http_request_duration_seconds",
            "Time to answer an HTTP request, held long-polls included",
            ["operation"],
            buckets=_REQUEST_BUCKETS,
            registry=registry,
        )
        self.tasks_created = Counter(
            "magic_hour_tasks_created", "Tasks created, by kind", ["kind"], registry=registry
        )
        self.tasks_finished = Counter(
            "magic_hour_tasks_finished",
            "Tasks finished by this process's workers, by kind and outcome (complete, error)",
            ["kind", "outcome"],
            registry=registry,
        )
        self.queued_seconds = Histogram(
            "magic_hour_task_queued_seconds",
            "Time from a task's creation to a worker claiming it",
            ["kind"],
            buckets=_TASK_BUCKETS,
            registry=registry,
        )
        self.running_seconds = Histogram(
            "magic_hour_task_running_seconds",
            "Time from a worker claiming a task to its outcome",
            ["kind"],
            buckets=_TASK_BUCKETS,
            registry=registry,
        )
        self.inference_seconds = Histogram(
            "magic_hour_detector_inference_seconds",
            "The detector's time per photo or video frame",
            buckets=_INFERENCE_BUCKETS,
            registry=registry,
        )
        self.worker_slots = Gauge(
            "magic_hour_worker_slots", "Detections this process may run at once", registry=registry
        )
        self.worker_slots_busy = Gauge(
            "magic_hour_worker_slots_busy", "Detections running now", registry=registry
        )
        self.leases_reclaimed = Counter(
            "magic_hour_leases_reclaimed",
            "Tasks this process's workers took over after another worker's lease ran out",
            registry=registry,
        )
        self.database_waits = Counter(
            "magic_hour_database_waits",
            "Times a request waited for the task database to come back",
            registry=registry,
        )
        self.database_unavailable = Counter(
            "magic_hour_database_unavailable_responses",
            "503 answers given because the task database stayed away",
            registry=registry,
        )
        for kind in KINDS:  # every series exists from the start, at 0
            self.tasks_created.labels(kind)
            for outcome in ("complete", "error"):
                self.tasks_finished.labels(kind, outcome)

    def watch_queue(self, store: QueueSource) -> None:
        """Report the queue's depth and oldest age, read from `store` at each scrape."""
        self.registry.register(_Queue(store))

    def exposition(self) -> bytes:
        """The text exposition format (what `/metrics` answers)."""
        return generate_latest(self.registry)
