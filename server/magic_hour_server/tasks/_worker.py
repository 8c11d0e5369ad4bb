"""The bounded worker pool that runs detections, and the retention sweep."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from magic_hour_server._media import MediaError, kind_of
from magic_hour_server._metrics import Metrics, kind_of_target
from magic_hour_server.detection._face_quality import UsableLimits
from magic_hour_server.detection._processing import process_image
from magic_hour_server.storage._fetch import download, extension_of
from magic_hour_server.storage._storage import Files, parse_api_path
from magic_hour_server.tasks._database import database_went_away
from magic_hour_server.tasks._outcomes import ScriptedOutcomes
from magic_hour_server.tasks._records import Face, Task, worker_name
from magic_hour_server.tasks._tasks import Store
from magic_hour_server.video._video import process_video
from magic_hour_server.video._video_decode import VideoLimits

if TYPE_CHECKING:
    from PIL import Image

    from magic_hour_server._config import Settings
    from magic_hour_server.detection._detector import FaceDetector

log = logging.getLogger("magic_hour_server.worker")


class Stopping(Exception):
    """The server is shutting down, or this worker lost the task's lease: leave the task as
    it is; the next start, or the worker that took it over, runs it."""


class _TaskSink:
    """Stores each face as it is found, so that GET shows it at once; or, when `deferred`
    (a photo, whose faces all come at once), keeps their records in `pending` for the
    transaction that completes the task: one transaction where each face took one."""

    def __init__(
        self,
        task_id: str,
        store: Store,
        files: Files,
        stop: threading.Event,
        worker: str,
        *,
        deferred: bool = False,
    ) -> None:
        self._task_id, self._store, self._files, self._stop = task_id, store, files, stop
        self._worker, self._deferred = worker, deferred
        self.pending: list[Face] = []

    def add_face(
        self,
        *,
        frame: int,
        index: int,
        crop: Image.Image,
        box: tuple[int, int, int, int],
        score: float,
        frame_time: float | None = None,
    ) -> None:
        if self._stop.is_set():
            raise Stopping
        face = Face(frame, index, box, score, frame_time)
        self._files.save_png(self._task_id, face.name, crop)
        if self._deferred:
            self.pending.append(face)
        elif not self._store.add_face(self._task_id, face, worker=self._worker):
            raise Stopping  # another worker took the task over

    def set_progress(self, fraction: float) -> None:
        if self._stop.is_set():
            raise Stopping
        if not self._store.set_progress(self._task_id, fraction, worker=self._worker):
            raise Stopping


class _Heartbeat:
    """Renews a worker's lease on the task it is running, every quarter of a lease, from
    one thread that lives as long as the worker (a thread per task cost more than a
    photo's claim: ~0.1 ms to start and join, for a task of ~20 ms)."""

    def __init__(self, store: Store, worker: str, lease: float) -> None:
        self._store, self._worker, self._lease = store, worker, lease
        self._changed = threading.Condition()
        self._task: str | None = None
        self._turn = 0  # counts tasks: a new task restarts the wait, a lost one stops it
        self._closed = False
        self._thread = threading.Thread(target=self._beat, name="lease", daemon=True)
        self._thread.start()

    @contextlib.contextmanager
    def holding(self, task_id: str) -> Iterator[None]:
        """Keep `task_id`'s lease while the block runs."""
        with self._changed:
            self._task, self._turn = task_id, self._turn + 1
            self._changed.notify()
        try:
            yield
        finally:
            with self._changed:
                self._task = None
                self._changed.notify()

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify()
        self._thread.join()

    def _beat(self) -> None:
        with self._changed:
            while not self._closed:
                task_id, turn = self._task, self._turn
                if task_id is None:
                    self._changed.wait()
                    continue
                due = time.monotonic() + self._lease / 4
                while not self._closed and self._turn == turn and self._task is not None:
                    left = due - time.monotonic()
                    if left <= 0:
                        break
                    self._changed.wait(left)
                if self._closed or self._turn != turn or self._task is None:
                    continue
                self._changed.release()  # holding() must not wait for the database
                try:
                    renewed = self._renew(task_id)
                finally:
                    self._changed.acquire()
                while not renewed and not self._closed and self._turn == turn:
                    self._changed.wait()  # taken over: the sink refuses this worker's writes

    def _renew(self, task_id: str) -> bool:
        try:
            return self._store.renew_lease(task_id, self._worker, self._lease)
        except Exception:
            log.exception("task %s: cannot renew the lease", task_id)
            return True  # try again at the next beat


class WorkerPool:
    """`settings.workers` threads taking queued tasks from the store, oldest first."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        files: Files,
        detector: Callable[[], FaceDetector],
        outcomes: ScriptedOutcomes | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._settings, self._store, self._files = settings, store, files
        self._detector = detector
        self._metrics = metrics or Metrics()
        self._name = worker_name()
        self._outcomes = outcomes or ScriptedOutcomes()
        self._stop = threading.Event()
        self._draining = threading.Event()
        self._wake = threading.Condition()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        if self._store.dialect == "sqlite":
            # One process on its own database: what it left rendering, it runs again now.
            # (On PostgreSQL other processes may be running them: their leases decide.)
            for task_id in self._store.requeue_interrupted():
                self._files.remove(task_id)
                log.info("task %s was interrupted; queued again", task_id)
        workers = 0 if self._settings.role == "api" else self._settings.workers
        self._metrics.worker_slots.set(workers)
        for number in range(workers):
            name = f"{self._name}/{number}"
            thread = threading.Thread(
                target=self._run, args=(name,), name=f"detect-{number}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        sweeper = threading.Thread(target=self._sweep_loop, name="retention", daemon=True)
        sweeper.start()
        self._threads.append(sweeper)

    def stop(self, timeout: float = 10.0, grace: float | None = None) -> None:
        """Stop taking tasks; let running detections finish for `grace` seconds (default:
        the `shutdown_grace_seconds` setting); then cut them short and hand them back at
        once (`Store.release`), so that another worker starts them without waiting for
        their leases to run out."""
        grace = self._settings.shutdown_grace_seconds if grace is None else grace
        self._draining.set()
        self.notify()
        finishing = time.monotonic() + grace
        for thread in self._threads:
            if thread.name.startswith("detect-"):
                thread.join(max(0.0, finishing - time.monotonic()))
        self._stop.set()
        self.notify()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def notify(self) -> None:
        """Wake the workers: a task was queued."""
        with self._wake:
            self._wake.notify_all()

    def _run(self, worker: str) -> None:
        lease = self._settings.lease_seconds
        heartbeat = _Heartbeat(self._store, worker, lease)
        try:
            self._work(worker, lease, heartbeat)
        finally:
            heartbeat.close()

    def _work(self, worker: str, lease: float, heartbeat: _Heartbeat) -> None:
        while not self._stop.is_set() and not self._draining.is_set():
            try:
                task = self._store.claim_next(worker, lease)
            except Exception as err:
                if database_went_away(err):
                    log.warning("cannot read the task queue: the database is unavailable")
                else:
                    log.exception("cannot read the task queue")
                task = None
            if task is None:
                with self._wake:
                    if not self._stop.is_set() and not self._draining.is_set():
                        self._wake.wait(timeout=1.0)
                continue
            try:
                # Partial crops of a run that died with its worker go; names are reused.
                self._files.remove(task.id)
                with heartbeat.holding(task.id), self._metrics.worker_slots_busy.track_inprogress():
                    self._execute(task, worker)
            except Exception:
                # Recording the outcome failed (a full disk, say). Keep this worker alive,
                # and try once more to end the task, so that no poller waits for ever.
                log.exception("task %s: cannot record its outcome", task.id)
                self._record_failure(task.id, worker)

    def _record_failure(self, task_id: str, worker: str) -> None:
        try:
            self._store.finish(
                task_id, error_message="the server could not store the result", worker=worker
            )
        except Exception:
            log.exception("task %s stays rendering until the next start", task_id)

    def _execute(self, task: Task, worker: str) -> None:
        started = time.monotonic()
        kind = kind_of_target(task.target)
        self._metrics.queued_seconds.labels(kind).observe(max(0.0, time.time() - task.created_at))
        script = self._outcomes.take_task()
        if script is not None:
            # A test asked for this task's outcome (`LocalServer.outcomes`).
            if self._stop.wait(script.delay):
                self._hand_back(task.id, worker)
                return
            if script.failure is not None:
                self._finish(task, script.failure, worker, started=started)
                return
        try:
            found = self._detect(task, worker)
        except Stopping:
            if self._stop.is_set():
                self._hand_back(task.id, worker)
            return
        except MediaError as err:
            self._finish(task, str(err), worker, started=started)
        except Exception as err:
            if database_went_away(err):
                # The database went away (a restart, a crash, a failover), not the input's
                # fault: leave the task to its lease; a worker then runs it from the start.
                log.warning("task %s: the database went away; it runs again", task.id)
                return
            # A bug, not the input's fault: keep the worker alive and say so on the task.
            log.exception("task %s failed", task.id)
            self._finish(task, "the detection failed unexpectedly", worker, started=started)
        else:
            self._finish(task, None, worker, found, started=started)
        log.info("task %s done in %.2f s", task.id, time.monotonic() - started)

    def _hand_back(self, task_id: str, worker: str) -> None:
        """A shutdown cut this task short: give it back for another worker to start now."""
        try:
            if self._store.release(task_id, worker):
                log.info("task %s handed back: another worker starts it now", task_id)
        except Exception:
            log.warning("task %s: cannot hand it back; its lease runs out instead", task_id)

    def _finish(
        self,
        task: Task,
        error: str | None,
        worker: str,
        found: list[Face] | None = None,
        *,
        started: float,
    ) -> None:
        if self._stop.is_set():
            return
        if not self._store.finish(task.id, error_message=error, worker=worker, found=found or []):
            log.warning("task %s was taken over by another worker; its outcome stands", task.id)
            return
        kind = kind_of_target(task.target)
        self._metrics.tasks_finished.labels(kind, "error" if error else "complete").inc()
        self._metrics.running_seconds.labels(kind).observe(time.monotonic() - started)

    def _detect(self, task: Task, worker: str) -> list[Face]:
        """Run the detection; the faces whose records are left for `finish` to store.
        The task's time limit runs from here: the download, then every video frame."""
        settings = self._settings
        deadline = time.monotonic() + settings.max_task_seconds
        source, downloaded = self._input(task, deadline)
        detector = self._detector()
        detector.on_inference = self._metrics.inference_seconds.observe
        try:
            kind = kind_of(source, source.suffix)
            sink = _TaskSink(
                task.id, self._store, self._files, self._stop, worker, deferred=kind != "video"
            )
            if kind == "video":
                process_video(
                    source,
                    detector,
                    task.threshold,
                    sink,
                    sample_fps=settings.video_sample_fps,
                    limits=UsableLimits(keep_all=settings.keep_all_faces),
                    video_limits=VideoLimits(
                        max_seconds=settings.max_video_seconds,
                        max_frames=settings.max_video_frames,
                        deadline=deadline,
                        task_seconds=settings.max_task_seconds,
                    ),
                )
            else:
                process_image(source, detector, task.threshold, sink)
        finally:
            if downloaded:
                source.unlink(missing_ok=True)
        return sink.pending

    def _input(self, task: Task, deadline: float) -> tuple[Path, bool]:
        """The local file to read, and whether it is a download to delete afterwards."""
        parts = parse_api_path(task.target)
        if parts is not None:
            path = self._files.path(*parts)
            if not path.is_file():
                raise MediaError(f"{task.target} no longer exists")
            return path, False
        extension = extension_of(task.target)
        dest = self._files.temp_path(f".{extension}" if extension else "")
        try:
            download(
                task.target,
                dest,
                max_bytes=self._settings.max_download_bytes,
                timeout=min(self._settings.download_timeout, deadline - time.monotonic()),
                allow_private=self._settings.allow_private_urls,
            )
        except BaseException:
            dest.unlink(missing_ok=True)
            raise
        return dest, True

    def _sweep_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.sweep()
            except Exception:
                log.exception("the retention sweep failed")
            self._stop.wait(self._settings.sweep_interval)

    def sweep(self, now: float | None = None) -> int:
        """Delete finished tasks and uploads older than the retention period; how many went."""
        cutoff = (time.time() if now is None else now) - self._settings.retention_days * 86400
        tasks, assets = self._store.older_than(cutoff)
        for task_id in tasks:
            self._store.delete_task(task_id)
            self._files.remove(task_id)
        for asset_id in assets:
            self._store.delete_asset(asset_id)
            self._files.remove(asset_id)
        leftovers = self._files.remove_leftovers()
        if tasks or assets or leftovers:
            log.info(
                "retention: deleted %d tasks, %d uploads and %d partial writes",
                len(tasks), len(assets), leftovers,
            )  # fmt: skip
        return len(tasks) + len(assets)
