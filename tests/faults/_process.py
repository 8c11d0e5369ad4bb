"""The server as a real child process on loopback: started, killed, started again.

Output (the server's whole log) goes to a file, so tests can search it for secrets.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

_START_TIMEOUT = 90.0


def free_port() -> int:
    """A loopback port that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def magic_hour_command() -> list[str]:
    """How to run the `magic-hour` console script of this environment."""
    script = Path(sys.executable).with_name("magic-hour")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from magic_hour.cli import main; sys.exit(main())"]


class ServerProcess:
    """A server run as `command`, answering at `url`; stopped on leaving a `with` block."""

    def __init__(
        self, command: list[str], port: int, log_path: Path, env: dict[str, str] | None = None
    ) -> None:
        self.command = command
        self.env = env or {}
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @classmethod
    def serve(
        cls, data_dir: Path, port: int, tokens: list[str], log_path: Path, *extra: str
    ) -> ServerProcess:
        """`magic-hour serve` on `data_dir` and `port` with `tokens` (given through the
        environment, as an operator should: never on the command line)."""
        command = [*magic_hour_command(), "serve", "--port", str(port), "--data-dir", str(data_dir)]
        env = {"MAGIC_HOUR_SERVER_TOKENS": ",".join(tokens)}
        return cls([*command, *extra], port, log_path, env)

    @classmethod
    def launcher(
        cls, data_dir: Path, port: int, tokens: list[str], log_path: Path, *extra: str
    ) -> ServerProcess:
        """`python -m tests.faults._serve`: the server with limits the CLI does not expose."""
        command = [sys.executable, "-m", "tests.faults._serve", "--port", str(port)]
        command += ["--data-dir", str(data_dir)]
        env = {"MAGIC_HOUR_SERVER_TOKENS": ",".join(tokens)}
        return cls([*command, *extra], port, log_path, env)

    @property
    def pid(self) -> int:
        assert self._process is not None, "not started"
        return self._process.pid

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text("utf-8", "replace") if self.log_path.exists() else ""

    def start(self) -> None:
        """Start the process; returns once /healthz answers 200."""
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self.command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=Path(__file__).resolve().parents[2],
                env={**os.environ, **self.env},
                start_new_session=True,
            )
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if not self.alive:
                raise RuntimeError(f"the server exited while starting:\n{self.log()[-2000:]}")
            if self.healthy():
                return
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"the server did not answer within {_START_TIMEOUT:g} s")

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        """SIGKILL: no clean-up, no chance to finish anything."""
        if self._process is not None and self.alive:
            os.kill(self._process.pid, signal.SIGKILL)
        self._wait()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not stopped within 20 s."""
        if self._process is not None and self.alive:
            self._process.terminate()
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._wait()

    def _wait(self) -> None:
        if self._process is not None:
            self._process.wait(timeout=20)
            self._process = None

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
