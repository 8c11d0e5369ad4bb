"""`LocalServer`: the real server on a free loopback port, in a background thread."""

from __future__ import annotations

import secrets
import shutil
import socket
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from magic_hour_server._config import Settings, default_workers
from magic_hour_server.tasks._outcomes import ScriptedOutcomes

_START_TIMEOUT = 30.0


def generate_token() -> str:
    """A new random API token."""
    return "mhl_" + secrets.token_urlsafe(24)


class LocalServer:
    """Run the local reference server for the length of a `with` block.

        with LocalServer() as server:
            client = Client(token=server.token, base_url=server.url)

    `data_dir=None` uses a temporary directory, removed on exit; `tokens=None` makes one
    token. `workers=0` accepts tasks without running them (they wait, queued, for a later
    server on the same `data_dir`). Other keyword arguments set limits of `Settings`
    (e.g. `max_upload_bytes=1024`, `sweep_interval=0.5`). An embedded server has one
    user, so it keeps no per-key quota unless given `quota_per_minute`.
    """

    def __init__(
        self,
        *,
        data_dir: str | Path | None = None,
        tokens: list[str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        allow_private_urls: bool = False,
        workers: int | None = None,
        retention_days: float = 7,
        public_url: str | None = None,
        **limits: Any,
    ) -> None:
        self.tokens: list[str] = list(tokens) if tokens else [generate_token()]
        self.token: str = self.tokens[0]
        self.host, self.port = host, port
        self._own_dir = data_dir is None
        self.data_dir = Path(data_dir) if data_dir is not None else Path()
        self._options: dict[str, Any] = {
            "allow_private_urls": allow_private_urls,
            "workers": default_workers() if workers is None else workers,
            "retention_days": retention_days,
            "quota_per_minute": 0,
            **limits,
        }
        self._public_url = public_url
        self.url = ""
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.state: Any = None

    @property
    def outcomes(self) -> ScriptedOutcomes:
        """Outcomes a test can ask for: a failed task, a slow task, a 429 (`_outcomes`)."""
        if self.state is None:
            raise RuntimeError("the server is not running")
        outcomes: ScriptedOutcomes = self.state.outcomes
        return outcomes

    def __enter__(self) -> LocalServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start serving; returns once /healthz answers."""
        from magic_hour_server.api._app import create_app
        from magic_hour_server.api._uvicorn import Server, config

        if self._own_dir:
            self.data_dir = Path(tempfile.mkdtemp(prefix="magic-hour-server-"))
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        host = f"[{self.host}]" if family == socket.AF_INET6 else self.host
        self.url = f"http://{host}:{self.port}"
        settings = Settings(
            data_dir=self.data_dir,
            tokens=self.tokens,
            public_url=self._public_url or self.url,
            **self._options,
        )
        app, self.state = create_app(settings)
        self._server = Server(config(app, settings), self.state.waiters)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="local-server", daemon=True
        )
        self._thread.start()
        self._wait_ready(sock)

    def _wait_ready(self, sock: socket.socket) -> None:
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self._thread is not None and not self._thread.is_alive():
                sock.close()
                self._cleanup()
                raise RuntimeError("the local server stopped while starting")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as reply:  # noqa: S310
                    if reply.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the local server did not answer within {_START_TIMEOUT:g} s")

    def stop(self) -> None:
        """Stop serving and wait for the server thread; idempotent."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._server, self._thread = None, None
        self._cleanup()

    def _cleanup(self) -> None:
        if self._own_dir and self.data_dir != Path():
            shutil.rmtree(self.data_dir, ignore_errors=True)
