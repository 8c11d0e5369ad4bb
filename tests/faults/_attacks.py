"""The attacks of the hostile-input table: small functions that send one bad request
(or run one bad input through a task) and return what came back."""

from __future__ import annotations

import re
import struct
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path

import httpx
from magic_hour import Client

from tests.faults._target import PUBLIC_HOST, TOKEN, Observed, Target
from tests.server.images import astronaut, encode


def png_bomb(width: int, height: int) -> bytes:
    """A valid PNG header claiming `width` x `height` pixels, over a few bytes of data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\0" * (width + 1) * 64, 9)  # the first rows: all zeros
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels)


def put(target: Target, data: bytes, chunked: bool = False) -> Observed:
    url, path = target.upload_url()
    content = iter([data]) if chunked else data
    observed = target.record(httpx.put(url, content=content, timeout=30))
    if (target.data_dir / "files" / path.split("/")[1]).exists():
        return Observed("kept", "the refused upload was stored")
    return observed


def signed_face(target: Target, change: Callable[[str, str], str]) -> Observed:
    task = target.completed_task()
    face = task["faces"][0]
    return target.record(httpx.get(change(face["url"], face["path"]), timeout=30))


def tamper(url: str, _path: str) -> str:
    match = re.search(r"signature=([0-9a-f])", url)
    assert match is not None
    flipped = "0" if match[1] != "0" else "1"
    return url[: match.start(1)] + flipped + url[match.end(1) :]


def sdk_unicode_name(target: Target) -> Observed:
    with tempfile.TemporaryDirectory() as temp:
        photo = Path(temp) / "fäce ☺ \t\x07name.png"
        photo.write_bytes(encode(astronaut()))
        with Client(token=TOKEN, base_url=target.url) as client:
            res = client.v1.face_detection.generate(
                assets={"target_file_path": photo}, download_directory=Path(temp) / "out"
            )
    return Observed(f"task {res.status}", f"{len(res.downloaded_paths)} face saved")


def post_json(
    target: Target,
    text: str,
    content_type: str = "application/json",
    path: str = "/v1/face-detection",
) -> Observed:
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": content_type}
    return target.raw("POST", path, headers, text.encode())


def score(value: str) -> Callable[[Target], Observed]:
    def run(target: Target) -> Observed:
        path = target.upload(encode(astronaut()))
        assets = f'{{"target_file_path": "{path}"}}'
        return post_json(target, f'{{"assets": {assets}, "confidence_score": {value}}}')

    return run


def get_raw(path: str) -> Callable[[Target], Observed]:
    return lambda t: t.raw("GET", path, {"Authorization": f"Bearer {TOKEN}"})


def detect(target_file_path: str) -> Callable[[Target], Observed]:
    return lambda t: t.detect(
        target_file_path.format(web=t.web_port, public=t.public_port, host=PUBLIC_HOST)
    )
