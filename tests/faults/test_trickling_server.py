"""The SDK against a server on loopback that answers one byte at a time: each byte comes
well within the read timeout, so only a deadline for the whole request ends the call.
The server stops by itself after a bounded number of bytes."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from magic_hour import APITimeoutError, AsyncClient, Client

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n"


@pytest.fixture
def trickling() -> Iterator[tuple[str, list[str]]]:
    """A loopback server whose answers arrive a byte every 0.1 s: the headers whole and
    the body trickled (mode "body"), or the headers trickled too ("headers")."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()
    mode = ["body"]

    def serve(connection: socket.socket) -> None:
        with connection:
            try:
                connection.recv(65536)
                data = HEAD + b" " * 4000
                if mode[0] == "body":
                    connection.sendall(HEAD)
                    data = data[len(HEAD) :]
                for index in range(min(len(data), 300)):  # 30 s at most
                    if stop.is_set():
                        return
                    connection.sendall(data[index : index + 1])
                    time.sleep(0.1)
            except OSError:
                return

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=serve, args=(connection,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", mode
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def test_a_trickled_body_ends_at_the_timeout_on_the_blocking_client(
    trickling: tuple[str, list[str]],
) -> None:
    url, _ = trickling
    with Client(token="t", base_url=url, timeout=1.0, max_retries=0) as client:
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            client.v1.face_detection.get(id="x")
    assert time.monotonic() - started < 3


@pytest.mark.anyio
@pytest.mark.parametrize("trickled", ["headers", "body"])
async def test_a_trickled_answer_ends_at_the_timeout_on_the_async_client(
    trickling: tuple[str, list[str]], trickled: str
) -> None:
    url, mode = trickling
    mode[0] = trickled
    async with AsyncClient(token="t", base_url=url, timeout=1.0, max_retries=0) as client:
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            await client.v1.face_detection.get(id="x")
    assert time.monotonic() - started < 3


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
