"""Hostile load: the limits a server facing the internet keeps, each provoked for real.

The server runs as a child process (as `magic-hour serve` runs it: uvicorn behind the
connection limits) with small limits, so that every attack ends in seconds: headers
that never end, connections that never send, bodies that trickle, a URL that drips its
answer, a video whose frames grow past the pixel limit, videos past the length and frame
limits, a task past its run time, a token past its quota. After each, the server's
memory stays within 100 MB of what it was idle and `/healthz` answers.
"""

from __future__ import annotations

import contextlib
import io
import socket
import threading
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest
from PIL import Image

from tests.faults._process import ServerProcess, free_port
from tests.server.conftest import start, upload, wait

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

TOKEN = "load-token-5b1e"
QUOTA_TOKEN = "quota-token-77c2"
QUOTA = 60
LIMITS = {
    "header_timeout": "1",
    "body_timeout": "1",  # the grace before a body's minimum rate applies
    "min_body_rate": "4096",
    "max_connections": "150",
    "max_held_polls": "2",
    "quota_per_minute": str(QUOTA),
    "max_video_seconds": "60",
    "max_video_frames": "1000",
    "allow_private_urls": "true",  # the dripping host is on loopback
}
MEMORY_SLACK_MIB = 100


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    work = tmp_path_factory.mktemp("hostile-load")
    settings = [f"--set={name}={value}" for name, value in LIMITS.items()]
    process = ServerProcess.launcher(
        work / "data",
        free_port(),
        [TOKEN, QUOTA_TOKEN],
        work / "server.log",
        "--download-timeout",
        "2",
        *settings,
    )
    with process:
        yield process


@pytest.fixture(scope="module")
def api(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
    ) as client:
        yield client


def rss_mib(server: ServerProcess) -> float:
    status = Path(f"/proc/{server.pid}/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


def answers_health(server: ServerProcess) -> bool:
    return httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200


def connect(server: ServerProcess) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def read_all(sock: socket.socket) -> bytes:
    chunks = []
    with contextlib.suppress(ConnectionResetError, TimeoutError):
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_a_header_bomb_is_answered_431_with_memory_flat(server: ServerProcess) -> None:
    idle = rss_mib(server)
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        line = b"X-Filler: " + b"a" * 990 + b"\r\n"
        with contextlib.suppress(OSError):  # the server closes on us mid-bomb
            for _ in range(100 * 1024):  # 100 MiB of header lines
                sock.sendall(line)
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert b"larger than 32,768 bytes" in answer
    assert rss_mib(server) - idle < MEMORY_SLACK_MIB
    assert answers_health(server)


def test_silent_and_slow_connections_are_closed_at_the_header_timeout(
    server: ServerProcess,
) -> None:
    silent = [connect(server) for _ in range(60)]
    slow = [connect(server) for _ in range(60)]
    for sock in slow:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHo")
    assert answers_health(server)  # while they hang on
    for sock in slow[:20]:  # a byte now and then does not keep a request alive
        sock.sendall(b"s")
    answers = [read_all(sock) for sock in silent + slow]  # each read ends when closed
    for sock in silent + slow:
        sock.close()
    assert all(a.startswith(b"HTTP/1.1 408 ") for a in answers), {a[:40] for a in answers}
    assert answers_health(server)


def test_connections_past_the_limit_are_refused_503_with_retry_after(
    server: ServerProcess,
) -> None:
    held = [connect(server) for _ in range(150)]
    for sock in held:  # answered, then kept alive (5 s): open, and not timed out meanwhile
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    try:
        with connect(server) as extra:
            extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = read_all(extra)
        assert answer.startswith(b"HTTP/1.1 503 "), answer[:100]  # read, then refused
        assert b"retry-after: 1" in answer.lower()
        # Past a tenth more, a connection is closed unread.
        beyond = [connect(server) for _ in range(15 + 5)]
        closed = [read_all(sock) for sock in beyond[-5:]]
        assert closed == [b""] * 5
        for sock in beyond:
            sock.close()
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not answers_health(server):
        time.sleep(0.1)  # the server counts the closed ones as they go
    assert answers_health(server)


def test_a_trickling_upload_is_cut(server: ServerProcess, api: httpx.Client) -> None:
    reply = api.post(
        "/v1/files/upload-urls", json={"items": [{"type": "image", "extension": "png"}]}
    )
    url = httpx.URL(reply.json()["items"][0]["upload_url"])
    idle = rss_mib(server)
    with connect(server) as sock:
        target = url.raw_path.decode()
        head = f"PUT {target} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n"
        sock.sendall(head.encode())
        started = time.monotonic()
        cut = False
        while time.monotonic() - started < 20:
            try:
                sock.sendall(b"x")
                if select_readable(sock, 0.5):
                    cut = sock.recv(100) == b""
                    break
            except OSError:
                cut = True
                break
    assert cut, "the server kept reading a body that came at 2 bytes a second"
    assert rss_mib(server) - idle < MEMORY_SLACK_MIB
    assert answers_health(server)


def select_readable(sock: socket.socket, timeout: float) -> bool:
    import select

    return bool(select.select([sock], [], [], timeout)[0])


@contextlib.contextmanager
def dripping_host() -> Iterator[str]:
    """A URL whose server answers one header byte every 0.2 s, forever."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def drip(connection: socket.socket) -> None:
        with connection:
            connection.recv(65536)
            with contextlib.suppress(OSError):
                for byte in b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"z" * 100_000:
                    if stop.wait(0.2):
                        return
                    connection.sendall(bytes([byte]))

    def accept() -> None:
        with contextlib.suppress(OSError):
            while not stop.is_set():
                connection, _ = listener.accept()
                threading.Thread(target=drip, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/photo.jpg"
    finally:
        stop.set()
        listener.close()


def test_a_dripping_url_ends_the_task_at_the_download_timeout(api: httpx.Client) -> None:
    with dripping_host() as url:
        started = time.monotonic()
        task = wait(api, start(api, url), timeout=60)
        took = time.monotonic() - started
    assert task["status"] == "error"
    assert "timed out after 2 s" in task["error_message"]
    assert took < 30, f"the task took {took:.0f} s against a 2 s download timeout"


def encode_clip(path: Path, seconds: float, fps: int, size: tuple[int, int] = (32, 32)) -> None:
    container = "matroska" if path.suffix == ".webm" else None  # Matroska; .webm names it
    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream("mpeg4", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for n in range(round(seconds * fps)):
            pixels = np.full((size[1], size[0], 3), n % 255, np.uint8)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def frames_that_grow(path: Path) -> None:
    """A Matroska video that declares 64x64 and whose later frames are 8000x4400 (35
    megapixels, past the 33.2 MP limit): MJPEG, so each frame sets its own size."""
    with av.open(str(path), "w", format="matroska") as out:
        stream = out.add_stream("mjpeg", rate=25)
        stream.width, stream.height = 64, 64
        stream.pix_fmt = "yuvj420p"
        stream.time_base = Fraction(1, 1000)
        for n in range(8):
            big = n >= 4
            image = Image.new("L" if big else "RGB", (8000, 4400) if big else (64, 64), 128)
            data = io.BytesIO()
            image.save(data, "JPEG", quality=50)
            packet = av.Packet(data.getvalue())
            packet.stream = stream
            packet.pts = packet.dts = n * 40
            packet.time_base = stream.time_base
            out.mux(packet)


def detect_file(api: httpx.Client, path: Path) -> dict[str, Any]:
    target = upload(api, path.read_bytes(), path.suffix.lstrip("."))
    return wait(api, start(api, target), timeout=120)


def test_frames_that_grow_past_the_pixel_limit_are_refused_unallocated(
    server: ServerProcess, api: httpx.Client, tmp_path: Path
) -> None:
    warm = tmp_path / "warm.mp4"  # the video path's models load on first use
    encode_clip(warm, 1, 4)
    assert detect_file(api, warm)["status"] == "complete"
    clip = tmp_path / "grows.webm"  # Matroska; .webm is what the API takes for it
    frames_that_grow(clip)
    idle = rss_mib(server)
    task = detect_file(api, clip)
    assert task["status"] == "error"
    assert "larger than the limit of 33,177,600 pixels" in task["error_message"]
    # One 35 MP frame decoded would be 53 MB in YUV, 106 MB once scaled to RGB.
    assert rss_mib(server) - idle < MEMORY_SLACK_MIB


@pytest.mark.parametrize(
    ("seconds", "fps", "extension", "reason"),
    [
        (120, 2, "mp4", "the video is 120 s long; the limit is 60 s"),
        (20, 60, "webm", "more than 1,000 frames (the limit)"),
    ],
    ids=["too-long", "too-many-frames"],
)
def test_videos_past_their_length_or_frame_limits_end_in_error(
    api: httpx.Client, tmp_path: Path, seconds: int, fps: int, extension: str, reason: str
) -> None:
    clip = tmp_path / f"clip.{extension}"
    encode_clip(clip, seconds, fps)
    task = detect_file(api, clip)
    assert task["status"] == "error"
    assert reason in task["error_message"]


def test_a_token_past_its_quota_is_answered_429_with_retry_after(
    server: ServerProcess, api: httpx.Client
) -> None:
    headers = {"Authorization": f"Bearer {QUOTA_TOKEN}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as quota:
        body = {"items": [{"type": "image", "extension": "png"}] * 20}
        answers = [quota.post("/v1/files/upload-urls", json=body) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 200]  # 60 URLs: the quota
        refused = quota.post("/v1/face-detection", json={"assets": {"target_file_path": "x"}})
        assert refused.status_code == 429
        assert "60 tasks or upload URLs a minute" in refused.json()["message"]
        assert 1 <= int(refused.headers["Retry-After"]) <= 60 / QUOTA + 1
    # Another token is not held back by it.
    assert api.post("/v1/files/upload-urls", json={"items": []}).status_code != 429


def test_reads_held_past_the_limit_are_answered_at_once(
    server: ServerProcess, api: httpx.Client
) -> None:
    prefer = {"Prefer": "wait=10"}
    with dripping_host() as url:
        # One worker: the first task downloads for 2 s, the other two stay queued.
        first, *queued = [start(api, url) for _ in range(3)]
        answers: list[httpx.Response] = []

        def held(task_id: str) -> None:
            answers.append(api.get(f"/v1/face-detection/{task_id}", headers=prefer))

        threads = [threading.Thread(target=held, args=(task_id,)) for task_id in queued]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while httpx.get(f"{server.url}/healthz").json()["waiting"] < 2:
            assert time.monotonic() < deadline, "the two reads were not held"
            time.sleep(0.02)
        third = api.get(f"/v1/face-detection/{first}", headers=prefer)
        for thread in threads:
            thread.join()
    assert third.json()["status"] in {"queued", "rendering"}
    assert "Preference-Applied" not in third.headers  # answered at once, and says so
    assert [a.headers.get("Preference-Applied") for a in answers] == ["wait=10"] * 2
