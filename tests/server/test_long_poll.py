"""`Prefer: wait` on GET /v1/face-detection/{id}: parsing, waking, disconnects, shutdown."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from magic_hour import Client
from magic_hour_server import LocalServer
from magic_hour_server.api._waiters import requested_wait

from tests.server.conftest import start, upload
from tests.server.images import astronaut, encode

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (["wait=10"], 10),
        (["WAIT = 7"], 7),
        (['wait="5"'], 5),
        (["respond-async, wait=3"], 3),
        (["wait=3; foo=bar"], 3),
        (["handling=lenient", "wait=4"], 4),
        (["wait=1, wait=9"], 1),  # only the first counts (RFC 7240, section 2)
        (["wait=99999999"], 30),  # capped
        (["wait=0"], None),
        (["wait=-1"], None),
        (["wait=abc"], None),
        (["wait=1.5"], None),
        (["wait=١٢"], None),  # digits, but not ASCII ones
        (["wait=" + "9" * 400], None),
        (["respond-async"], None),
        ([""], None),
        ([], None),
    ],
)
def test_the_prefer_header_is_read_leniently(headers: list[str], expected: int | None) -> None:
    assert requested_wait(headers, cap=30) == expected


def _client(server: LocalServer, timeout: float = 30) -> httpx.Client:
    headers = {"Authorization": f"Bearer {server.token}"}
    return httpx.Client(base_url=server.url, headers=headers, timeout=timeout)


def _until(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.01)


@pytest.fixture
def idle_server() -> Any:
    """A server that accepts tasks and never runs them: they stay queued."""
    with LocalServer(workers=0, max_wait_seconds=5) as server:
        yield server


def _queued_task(server: LocalServer) -> str:
    with _client(server) as api:
        return start(api, upload(api, encode(astronaut())))


def _background_get(
    server: LocalServer, task_id: str, prefer: str
) -> tuple[threading.Thread, list[Any]]:
    answers: list[Any] = []

    def run() -> None:
        try:
            with _client(server) as api:
                answers.append(api.get(f"/v1/face-detection/{task_id}", headers={"Prefer": prefer}))
        except httpx.HTTPError as err:
            answers.append(err)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, answers


def test_a_held_request_answers_when_its_wait_ends(idle_server: LocalServer) -> None:
    task_id = _queued_task(idle_server)
    thread, answers = _background_get(idle_server, task_id, "wait=1")

    _until(lambda: idle_server.state.waiters.count == 1)
    with _client(idle_server) as api:
        assert api.get("/healthz").json() == {"status": "ok", "waiting": 1}
    thread.join(10)

    (reply,) = answers
    assert reply.status_code == 200
    assert reply.headers["Preference-Applied"] == "wait=1"
    assert reply.json()["status"] == "queued"
    assert idle_server.state.waiters.count == 0


@pytest.mark.parametrize("prefer", ["wait=-5", "wait=abc", "wait=1, wait=2", "wait=" + "9" * 30])
def test_odd_prefer_values_are_ignored_or_capped(idle_server: LocalServer, prefer: str) -> None:
    task_id = _queued_task(idle_server)
    with _client(idle_server) as api:
        reply = api.get(f"/v1/face-detection/{task_id}", headers={"Prefer": prefer})
    assert reply.status_code == 200
    assert reply.json()["status"] == "queued"
    assert reply.headers.get("Preference-Applied") in (None, "wait=1", "wait=5")


def test_a_waiter_on_someone_elses_task_is_not_held(idle_server: LocalServer) -> None:
    with _client(idle_server) as api:
        reply = api.get("/v1/face-detection/no-such-task", headers={"Prefer": "wait=5"})
    assert reply.status_code == 404
    assert idle_server.state.waiters.count == 0


def test_a_client_that_goes_away_frees_its_waiter_at_once(idle_server: LocalServer) -> None:
    task_id = _queued_task(idle_server)
    host, port = idle_server.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(
            (
                f"GET /v1/face-detection/{task_id} HTTP/1.1\r\nHost: {host}\r\n"
                f"Authorization: Bearer {idle_server.token}\r\nPrefer: wait=5\r\n\r\n"
            ).encode()
        )
        _until(lambda: idle_server.state.waiters.count == 1)
    # Well before the 5 s wait would end.
    _until(lambda: idle_server.state.waiters.count == 0, timeout=2)


def test_stopping_the_server_answers_waiting_requests(tmp_path: Any) -> None:
    server = LocalServer(data_dir=tmp_path, workers=0, max_wait_seconds=30)
    server.start()
    task_id = _queued_task(server)
    thread, answers = _background_get(server, task_id, "wait=30")
    _until(lambda: server.state.waiters.count == 1)

    stopping = threading.Thread(target=server.stop)
    stopping.start()
    stopping.join(10)
    thread.join(10)

    assert not stopping.is_alive() and not thread.is_alive()
    (reply,) = answers
    assert reply.status_code == 200 and reply.json()["status"] == "queued"


def test_generate_on_a_real_server_is_woken_by_the_worker(tmp_path: Any) -> None:
    gets: list[httpx.Response] = []

    def record(response: httpx.Response) -> None:
        if response.request.method == "GET" and "/v1/face-detection/" in response.request.url.path:
            gets.append(response)

    with LocalServer() as server:
        http = httpx.Client(event_hooks={"response": [record]})
        with Client(token=server.token, base_url=server.url, httpx_client=http) as client:
            for _ in range(2):
                client.v1.face_detection.generate(
                    assets={"target_file_path": astronaut_file(tmp_path)},
                    download_directory=str(tmp_path / "faces"),
                )
        http.close()
    # Every read was held and said so; each task's first read for a second at most.
    applied = [r.headers.get("Preference-Applied") for r in gets]
    assert applied.count("wait=1") == 2 and set(applied) <= {"wait=1", "wait=20"}
    # Each answer came from a change, not from a schedule: a photo takes one or two polls.
    assert len(gets) <= 4


def astronaut_file(folder: Any) -> str:
    path = folder / "astronaut.png"
    if not path.exists():
        path.write_bytes(encode(astronaut()))
    return str(path)
