"""Cross-process wake-ups on PostgreSQL: LISTEN for what other processes NOTIFY.

The task store announces each task change (`magic_hour_task_changed`, the task's id) and
each new task (`magic_hour_task_queued`) in the transaction that makes it. Every server
process listens on one connection of its own, in a thread: a change wakes the long-poll
requests waiting on that task here, a new task wakes this process's idle workers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from magic_hour_server.tasks._tasks import TASK_CHANGED, TASK_QUEUED

log = logging.getLogger("magic_hour_server.notify")


class Listener:
    def __init__(
        self, url: str, on_changed: Callable[[str], None], on_queued: Callable[[], None]
    ) -> None:
        self._url = url.replace("postgresql+psycopg://", "postgresql://", 1)
        self._on_changed, self._on_queued = on_changed, on_queued
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pg-listen", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True) as connection:
                    connection.execute(f"LISTEN {TASK_CHANGED}")
                    connection.execute(f"LISTEN {TASK_QUEUED}")
                    # Anything that happened while not listening: let everyone look again.
                    self._on_queued()
                    while not self._stop.is_set():
                        for note in connection.notifies(timeout=0.5):
                            if note.channel == TASK_CHANGED:
                                self._on_changed(note.payload)
                            else:
                                self._on_queued()
            except Exception as err:  # the database restarted: listen again shortly
                if not self._stop.is_set():
                    log.warning("listening for task changes failed (%s); retrying", err)
                    self._stop.wait(1.0)
