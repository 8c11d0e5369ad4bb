"""`magic-hour serve --role worker` as a process of its own, for cluster tests and benches."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from tests.faults._process import magic_hour_command


class Worker:
    """`magic-hour serve --role worker`: no HTTP, so started and checked by its log."""

    def __init__(
        self, database: str, data_dir: Path, log: Path, *extra: str, metrics_port: int | None = None
    ) -> None:
        command = [*magic_hour_command(), "serve", "--role", "worker", "--database", database]
        self.metrics_url = None if metrics_port is None else f"http://127.0.0.1:{metrics_port}"
        if metrics_port is not None:
            extra = (*extra, "--metrics-port", str(metrics_port))
        command += ["--data-dir", str(data_dir), "--workers", "1", *extra]
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.log = log
        deadline = time.monotonic() + 60
        while "Magic Hour worker started" not in log.read_text("utf-8", "replace"):
            assert self.process.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.1)

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)
