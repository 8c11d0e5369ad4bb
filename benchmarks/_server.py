"""The local server for the benchmarks, in its own process, and its task records.

The server runs in a child process so that the client being measured and the server do
not take turns at one interpreter lock: the client's time is the client's, as it would be
against a real deployment. The task records are read straight from the server's SQLite
database, the server's own account of when a task was created and completed.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from types import TracebackType
from typing import Any

_START_TIMEOUT = 120.0
# How often the completion oracle looks at the database: a read takes tens of microseconds.
ORACLE_GAP = 0.001


@dataclass(frozen=True)
class TaskRecord:
    """A task as the server's database has it; times are unix seconds (`time.time()`)."""

    status: str
    created_at: float
    updated_at: float

    @property
    def server_seconds(self) -> float:
        """Creation to the last update (completion, for a finished task)."""
        return self.updated_at - self.created_at


def _serve(conn: Connection, data_dir: str, options: dict[str, Any]) -> None:
    from magic_hour_server import LocalServer

    with LocalServer(data_dir=data_dir, **options) as server:
        conn.send((server.url, server.token))
        with contextlib.suppress(EOFError):  # the parent went away: stop too
            conn.recv()


class BenchServer:
    """`LocalServer` in a child process, for a `with` block; `.url`, `.token`, `.data_dir`.

    `options` go to `LocalServer` (e.g. `max_upload_bytes=2 * 1024**3`).
    """

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._tmp = tempfile.TemporaryDirectory(prefix="magic-hour-bench-")
        self.data_dir = Path(self._tmp.name)
        self.url = ""
        self.token = ""
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(child, str(self.data_dir), options), daemon=True
        )
        self._child = child
        self._db: sqlite3.Connection | None = None

    def __enter__(self) -> BenchServer:
        self._process.start()
        self._child.close()
        if not self._conn.poll(_START_TIMEOUT):
            self.close()
            raise RuntimeError(f"the local server did not start within {_START_TIMEOUT:g} s")
        try:
            self.url, self.token = self._conn.recv()
        except EOFError:
            self.close()
            raise RuntimeError("the local server process exited while starting") from None
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._process.is_alive():
            with contextlib.suppress(OSError):
                self._conn.send("stop")
            self._process.join(30)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join(5)
        self._conn.close()
        self._tmp.cleanup()

    @property
    def holds_polls(self) -> bool:
        """Whether the server holds a poll that asks it to (`Prefer: wait`)."""
        return self._options.get("max_wait_seconds") != 0

    @property
    def pid(self) -> int:
        assert self._process.pid is not None
        return self._process.pid

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server process has used so far."""
        fields = Path(f"/proc/{self._process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def _query(self, sql: str, args: tuple[Any, ...]) -> Any:
        if self._db is None:
            self._db = sqlite3.connect(self.data_dir / "tasks.sqlite3", isolation_level=None)
        return self._db.execute(sql, args).fetchone()

    def task(self, task_id: str) -> TaskRecord:
        """The server's record of `task_id`."""
        row = self._query(
            "SELECT status, created_at, updated_at FROM tasks WHERE id = ?", (task_id,)
        )
        if row is None:
            raise LookupError(f"no task {task_id} in the server's database")
        return TaskRecord(row[0], row[1], row[2])

    def wait_complete(self, task_id: str, timeout: float = 120.0) -> None:
        """Return as soon as the server's record of `task_id` says it is finished."""
        deadline = time.monotonic() + timeout
        while not self._finished(task_id):
            if time.monotonic() > deadline:
                raise TimeoutError(f"task {task_id} did not finish within {timeout:g} s")
            time.sleep(ORACLE_GAP)

    async def wait_complete_async(self, task_id: str) -> None:
        """`wait_complete`, for an event loop (each look at the database takes microseconds)."""
        async with asyncio.timeout(120.0):
            # The news is in another process's database: nothing here could set an Event.
            while not self._finished(task_id):  # noqa: ASYNC110
                await asyncio.sleep(ORACLE_GAP)

    def _finished(self, task_id: str) -> bool:
        row = self._query("SELECT status FROM tasks WHERE id = ?", (task_id,))
        return row is not None and row[0] in ("complete", "error")

    def stored_size(self, file_path: str) -> int | None:
        """How many bytes the server stored for the upload `api-assets/<id>/<name>`."""
        _, asset_id, name = file_path.split("/", 2)
        row = self._query("SELECT size FROM assets WHERE id = ? AND name = ?", (asset_id, name))
        return None if row is None else row[0]

    def remove_upload(self, file_path: str) -> None:
        """Delete a stored upload's bytes (a 1 GiB upload need not stay on disk)."""
        _, asset_id, name = file_path.split("/", 2)
        (self.data_dir / "files" / asset_id / name).unlink(missing_ok=True)
