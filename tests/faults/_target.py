"""What the hostile-input cases run against: the server as a child process, two small
web hosts, and helpers that record what came back.

The server runs with a 1 MiB upload limit and two tokens. `PUBLIC_HOST` (a loopback
address) is the one address its SSRF guard is told to treat as public, so that an
"allowed" host can redirect to a refused one. A canary directory next to the data
directory shows whether anything was written outside it.
"""

from __future__ import annotations

import contextlib
import re
import select
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from magic_hour_server.api._signing import Signer, load_or_create_key

from tests._web import Route, StaticWeb
from tests.faults._process import ServerProcess, free_port
from tests.server.images import astronaut, encode

TOKEN = "hostile-main-token-3d9c1e"
OTHER_TOKEN = "hostile-other-token-8a27f0"
PUBLIC_HOST = "127.0.0.77"
MAX_UPLOAD = 1024 * 1024


@dataclass(frozen=True)
class Observed:
    """What a case got: `outcome` is the HTTP status ("404") or the task's final
    status ("task error"); `detail` the message that came with it."""

    outcome: str
    detail: str


class Target:
    """A running server and what the cases need to attack it; see the module doc."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.data_dir = work / "data"
        self.canary = work / "canary"
        self.bodies: list[str] = []
        port = free_port()
        self.server = ServerProcess.launcher(
            self.data_dir,
            port,
            [TOKEN, OTHER_TOKEN],
            work / "server.log",
            "--max-upload-bytes",
            str(MAX_UPLOAD),
            "--download-timeout",
            "10",
            "--pretend-public",
            PUBLIC_HOST,
        )
        self.url = self.server.url
        self.port = port
        self.api = httpx.Client(base_url=self.url, headers=_auth(TOKEN), timeout=30)
        self.other = httpx.Client(base_url=self.url, headers=_auth(OTHER_TOKEN), timeout=30)
        self._routes: dict[str, Route] = {}
        self._webs = [StaticWeb(self._routes), StaticWeb(self._routes, PUBLIC_HOST)]
        self.web_port = self._webs[0].port
        self.public_port = self._webs[1].port

    @contextlib.contextmanager
    def running(self) -> Iterator[Target]:
        self.canary.mkdir(parents=True, exist_ok=True)
        (self.canary / "keep.txt").write_text("canary\n")
        self._routes.update(
            {
                "/astronaut.png": (200, {}, encode(astronaut())),
                "/to-loopback": (
                    302,
                    {"Location": f"http://127.0.0.1:{self.web_port}/astronaut.png"},
                    b"",
                ),
            }
        )
        try:
            with self.server, self._webs[0], self._webs[1]:
                yield self
        finally:
            self.api.close()
            self.other.close()

    # Secrets and the world outside the data directory

    def secrets(self) -> list[str]:
        """Strings that must never appear in a response or in the log."""
        key = (self.data_dir / "signing.key").read_bytes()
        return [TOKEN, OTHER_TOKEN, key.hex(), repr(key)[2:-1]]

    def outside_files(self) -> dict[str, bytes]:
        """Every file under the work directory but outside the data directory."""
        return {
            str(p.relative_to(self.work)): p.read_bytes()
            for p in self.work.rglob("*")
            if p.is_file() and self.data_dir not in p.parents and p.name != "server.log"
        }

    # Requests

    def record(self, reply: httpx.Response) -> Observed:
        self.bodies.append(reply.text)
        try:
            message = str(reply.json().get("message", ""))
        except (ValueError, AttributeError):
            message = reply.text[:120]
        return Observed(str(reply.status_code), message)

    def raw(
        self, method: str, target: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> Observed:
        """Send exactly `target` as the request target (no client-side normalization)."""
        lines = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{self.port}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
        chunks = []
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as sock:
            sock.sendall("\r\n".join(lines).encode("latin-1"))
            # Stop sending once the server has answered: it may refuse on the head alone
            # and close, and writing on would reset the connection and lose the answer.
            with contextlib.suppress(OSError):
                for start in range(0, len(body), 65536):
                    if select.select([sock], [], [], 0)[0]:
                        break
                    sock.sendall(body[start : start + 65536])
            with contextlib.suppress(ConnectionResetError):
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
        response = b"".join(chunks)
        if not response:
            return Observed("reset", "the connection was closed without an answer")
        head, _, content = response.partition(b"\r\n\r\n")
        status = head.split(b" ", 2)[1].decode()
        text = content.decode("utf-8", "replace")
        self.bodies.append(text)
        found = re.search(r'"message":\s*"([^"]*)"', text)
        return Observed(status, found[1] if found else text[:120])

    def upload(self, data: bytes, extension: str = "png") -> str:
        item = {"type": "image", "extension": extension}
        reply = self.api.post("/v1/files/upload-urls", json={"items": [item]})
        reply.raise_for_status()
        upload = reply.json()["items"][0]
        httpx.put(upload["upload_url"], content=data, timeout=30).raise_for_status()
        return str(upload["file_path"])

    def upload_url(self) -> tuple[str, str]:
        item = {"type": "image", "extension": "png"}
        reply = self.api.post("/v1/files/upload-urls", json={"items": [item]})
        reply.raise_for_status()
        upload = reply.json()["items"][0]
        return str(upload["upload_url"]), str(upload["file_path"])

    def create(self, body: Any, client: httpx.Client | None = None) -> Observed:
        """POST /v1/face-detection with `body`; when a task starts, its final status."""
        reply = (client or self.api).post("/v1/face-detection", json=body)
        if reply.status_code != 200:
            return self.record(reply)
        return self.finish(str(reply.json()["id"]))

    def detect(self, target: str) -> Observed:
        return self.create({"assets": {"target_file_path": target}})

    def finish(self, task_id: str, timeout: float = 60) -> Observed:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reply = self.api.get(f"/v1/face-detection/{task_id}")
            self.bodies.append(reply.text)
            task = reply.json()
            if task["status"] in ("complete", "error"):
                return Observed(f"task {task['status']}", str(task.get("error_message", "")))
            time.sleep(0.1)
        return Observed("task stuck", f"not finished after {timeout:g} s")

    def completed_task(self) -> dict[str, Any]:
        path = self.upload(encode(astronaut()))
        reply = self.api.post("/v1/face-detection", json={"assets": {"target_file_path": path}})
        task_id = str(reply.json()["id"])
        self.finish(task_id)
        task: dict[str, Any] = self.api.get(f"/v1/face-detection/{task_id}").json()
        return task

    def sign(self, method: str, path: str, ttl: float) -> str:
        """A storage URL signed with the server's own key, as only the server can."""
        signer = Signer(load_or_create_key(self.data_dir / "signing.key"))
        query, _expires = signer.sign(method, path, ttl)
        return f"{self.url}{path}?{query}"


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
