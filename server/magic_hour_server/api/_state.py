"""What the HTTP handlers and the workers of one process share: the settings, the task
store, the files, the URL signer, the worker pool and the requests waiting on tasks."""

from __future__ import annotations

from collections.abc import Callable

from magic_hour_server._config import Settings
from magic_hour_server._metrics import Metrics
from magic_hour_server.api._quota import Quota
from magic_hour_server.api._signing import Signer, load_or_create_key
from magic_hour_server.api._waiters import TaskWaiters
from magic_hour_server.detection._detector import FaceDetector
from magic_hour_server.storage._storage import Files, api_path
from magic_hour_server.tasks._database import claim_directory
from magic_hour_server.tasks._notify import Listener
from magic_hour_server.tasks._outcomes import ScriptedOutcomes
from magic_hour_server.tasks._tasks import Store
from magic_hour_server.tasks._worker import WorkerPool

__all__ = ["ServerState"]


class ServerState:
    """What the handlers and workers share: settings, store, files, signer, worker pool,
    and the requests waiting on tasks."""

    def __init__(self, settings: Settings, detector: Callable[[], FaceDetector]) -> None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.settings = settings
        self.waiters = TaskWaiters(limit=settings.max_held_polls)
        self.outcomes = ScriptedOutcomes()
        self.quota = Quota(settings.quota_per_minute)
        self.metrics = Metrics()
        self.store = Store(
            settings.database or settings.data_dir / "tasks.sqlite3",
            on_change=self.waiters.changed,
            migrate=settings.role != "worker",
            on_reclaim=self.metrics.leases_reclaimed.inc,
        )
        if settings.role != "worker":  # the queue is the API processes' to report
            self.metrics.watch_queue(self.store)
        claim_directory(settings.data_dir, self.store.identity())
        # In a cluster the directory is shared: a process starting leaves the others' writes.
        self.files = Files(settings.data_dir, shared=self.store.dialect != "sqlite")
        self.signer = Signer(load_or_create_key(settings.data_dir / "signing.key"))
        self.pool = WorkerPool(
            settings, self.store, self.files, detector, self.outcomes, self.metrics
        )
        self.listener: Listener | None = None
        if self.store.dialect == "postgresql":
            self.listener = Listener(self.store.url, self.waiters.changed, self.pool.notify)

    def start(self) -> None:
        """Start the workers (as the role says) and the cross-process listener."""
        if self.listener is not None:
            self.listener.start()
        self.pool.start()

    def stop(self) -> None:
        self.waiters.close()
        self.pool.stop()
        if self.listener is not None:
            self.listener.stop()
        self.store.close()

    def signed_url_and_expiry(
        self, method: str, item_id: str, name: str, ttl: float
    ) -> tuple[str, int]:
        path = "/" + api_path(item_id, name)
        query, expires = self.signer.sign(method, path, ttl)
        return f"{self.settings.public_url}{path}?{query}", expires

    def signed_url(self, method: str, item_id: str, name: str) -> str:
        return self.signed_url_and_expiry(method, item_id, name, self.settings.face_url_ttl)[0]
