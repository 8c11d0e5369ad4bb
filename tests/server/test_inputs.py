"""Inputs that cannot be used end the task in `error` with a reason; URLs are fetched safely."""

from __future__ import annotations

import struct
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from magic_hour_server import LocalServer
from magic_hour_server.storage._fetch import (
    DownloadError,
    _Backend,
    download,
    refused_reason,
)
from PIL import Image

from tests._web import Route, StaticWeb
from tests.server.conftest import detect, start, wait
from tests.server.images import astronaut, encode, heic, jpeg_claiming

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def _png_claiming(width: int, height: int) -> bytes:
    """A valid PNG header for a huge image, with a few bytes of data: an image bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


def _heic() -> bytes:
    return heic(Image.fromarray(astronaut()))


def _heic_claiming(width: int, height: int) -> bytes:
    """A real HEIC whose image size box (ispe) says it is `width` x `height` pixels."""
    data = bytearray(_heic())
    at = data.index(b"ispe") + 8  # type, version and flags: then width, height
    data[at : at + 8] = struct.pack(">II", width, height)
    return bytes(data)


@pytest.mark.parametrize(
    ("data", "extension", "reason"),
    [
        (b"", "png", "the file is empty"),
        (encode(astronaut(), "JPEG")[:3000], "jpg", "truncated or corrupt"),
        (jpeg_claiming(60_000, 60_000), "jpg", "too large"),
        (jpeg_claiming(8000, 6000), "jpg", "its header says 8000 x 6000 pixels"),
        (b"hello, this is text", "png", "not an image or video"),
        (encode(astronaut())[:3000], "png", "truncated or corrupt"),
        (_png_claiming(60_000, 60_000), "png", "too large"),
        (encode(astronaut(), "JPEG"), "png", "named .png but holds a JPEG image"),
        (_heic()[:3000], "heic", "truncated or corrupt"),
        (encode(astronaut(), "AVIF")[:3000], "avif", "truncated or corrupt"),
        (encode(astronaut(), "AVIF")[:200], "avif", "truncated or corrupt"),
        (_heic_claiming(60_000, 60_000), "heic", "too large"),
        (_heic(), "jpg", "named .jpg but holds a HEIF image"),
        (encode(astronaut()), "mp4", "named .mp4 but holds a PNG image"),
        (b"\x00\x00\x00\x18ftypisom" + b"\x00" * 64, "png", "named .png but holds a video"),
    ],
)
def test_broken_inputs_end_in_error(
    api: httpx.Client, data: bytes, extension: str, reason: str
) -> None:
    task = detect(api, data, extension)
    assert task["status"] == "error"
    assert reason in task["error_message"]
    assert task["faces"] == []


def test_the_worker_survives_broken_inputs(api: httpx.Client) -> None:
    for data in (b"", b"junk", _png_claiming(100_000, 100_000)):
        assert detect(api, data)["status"] == "error"
    assert detect(api, encode(astronaut()))["status"] == "complete"


@pytest.fixture(scope="module")
def web() -> Iterator[str]:
    routes: dict[str, Route] = {
        "/astronaut.png": (200, {}, encode(astronaut())),
        "/moved": (302, {"Location": "/astronaut.png"}, b""),
        "/photo": (200, {}, encode(astronaut(), "JPEG")),
        "/big.png": (200, {}, b"x" * 2_000_000),
        "/gone.png": (404, {}, b"nope"),
    }
    with StaticWeb(routes) as files:
        yield files.url


@pytest.fixture(scope="module")
def open_server() -> Iterator[httpx.Client]:
    with LocalServer(allow_private_urls=True, max_download_bytes=1_500_000) as running:
        headers = {"Authorization": f"Bearer {running.token}"}
        with httpx.Client(base_url=running.url, headers=headers, timeout=30) as client:
            yield client


@pytest.mark.parametrize("path", ["/astronaut.png", "/moved", "/photo"])
def test_urls_are_downloaded(open_server: httpx.Client, web: str, path: str) -> None:
    task = wait(open_server, start(open_server, web + path))
    assert task["status"] == "complete", task
    assert len(task["faces"]) == 1


@pytest.mark.parametrize(
    ("path", "reason"),
    [("/big.png", "larger than the 1,500,000 byte limit"), ("/gone.png", "HTTP 404")],
)
def test_failed_downloads_end_in_error(
    open_server: httpx.Client, web: str, path: str, reason: str
) -> None:
    task = wait(open_server, start(open_server, web + path))
    assert task["status"] == "error"
    assert reason in task["error_message"]


@pytest.mark.parametrize(
    "url",
    [
        "/astronaut.png",  # the test web server, on loopback
        "http://localhost:9/a.png",
        "http://10.1.2.3/a.png",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/a.png",
        "http://0.0.0.0/a.png",
    ],
)
def test_private_addresses_are_refused_by_default(api: httpx.Client, web: str, url: str) -> None:
    target = web + url if url.startswith("/") else url
    task = wait(api, start(api, target))
    assert task["status"] == "error"
    assert "refusing to download" in task["error_message"]


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("127.0.0.1", True),
        ("10.0.0.1", True),
        ("172.16.5.4", True),
        ("192.168.1.1", True),
        ("100.64.0.1", True),
        ("169.254.169.254", True),
        ("224.0.0.1", True),
        ("0.0.0.0", True),
        ("::1", True),
        ("fe80::1", True),
        ("fc00::1", True),
        ("::ffff:127.0.0.1", True),
        ("ff02::1", True),
        # IPv6 transition forms that reach IPv4 addresses: refused by what they reach.
        ("::7f00:1", True),  # IPv4-compatible 127.0.0.1
        ("64:ff9b::a9fe:a9fe", True),  # NAT64 169.254.169.254, a cloud's metadata
        ("64:ff9b:1::a00:1", True),  # local-use NAT64 10.0.0.1
        ("2002:7f00:1::1", True),  # 6to4 127.0.0.1
        ("2001:0:7f00:1:0:0:0:1", True),  # Teredo, server 127.0.0.1
        ("fec0::1", True),  # site-local, deprecated but still routed by some networks
        ("93.184.216.34", False),
        ("2606:2800:220:1:248:1893:25c8:1946", False),
        ("64:ff9b::5db8:d822", False),  # NAT64 of 93.184.216.34, a public address
        ("2002:5db8:d822::1", False),  # 6to4 of the same
    ],
)
def test_refused_addresses(address: str, refused: bool) -> None:
    assert (refused_reason(address) is not None) == refused


def test_a_transition_form_is_named_with_what_it_reaches() -> None:
    assert refused_reason("64:ff9b::a9fe:a9fe") == (
        "a link-local address (64:ff9b::a9fe:a9fe, which reaches 169.254.169.254)"
    )


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "::1", "10.0.0.8"])
def test_every_connection_is_checked_including_redirect_hops(host: str) -> None:
    # Redirects are followed through the same guarded connection factory, so a public URL
    # that redirects to one of these hosts is refused at this point as well.
    with pytest.raises(DownloadError, match="refusing to download"):
        _Backend(time.monotonic() + 5, guard=True).connect_tcp(host, 80, timeout=1)


def test_only_http_urls_are_downloaded(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="only http and https"):
        download("file:///etc/passwd", tmp_path / "x", max_bytes=10, timeout=1)
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
@pytest.mark.parametrize("mode", ["RGB", "P", "L"])
def test_an_image_is_read_upright_in_rgb(tmp_path: Path, orientation: int, mode: str) -> None:
    from magic_hour_server._media import load_image
    from PIL import Image, ImageOps

    picture = Image.fromarray(astronaut()[::4, ::4]).convert(mode)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "photo.png"
    picture.save(path, exif=exif)
    with Image.open(path) as opened:
        expected = ImageOps.exif_transpose(opened).convert("RGB")

    loaded = load_image(path)

    assert loaded.mode == "RGB" and loaded.size == expected.size
    assert np.array_equal(np.asarray(loaded), np.asarray(expected))


@pytest.mark.parametrize(
    ("mode", "scale", "name"),
    [
        ("I;16", 257, "photo.png"),  # a 16-bit grey PNG
        ("I;16", 257, "photo.tiff"),  # a 16-bit grey TIFF
        ("I", 4 * 257, "photo.tiff"),  # 32-bit integers, past 16 bits
        ("F", 1 / 255, "photo.tiff"),  # floating point, 0..1
    ],
)
def test_wide_grey_is_scaled_to_eight_bits_not_clipped(
    tmp_path: Path, mode: str, scale: float, name: str
) -> None:
    from magic_hour_server._media import load_image

    grey = np.asarray(Image.fromarray(astronaut()).convert("L"))
    wide = grey.astype(np.float32 if mode == "F" else np.int32) * scale
    picture = Image.fromarray(
        wide.astype({"I;16": np.uint16, "I": np.int32, "F": np.float32}[mode])
    )
    picture.save(tmp_path / name)
    with Image.open(tmp_path / name) as opened:
        assert opened.mode == mode

    loaded = np.asarray(load_image(tmp_path / name)).astype(int)

    assert loaded.shape == (*grey.shape, 3)
    # Within a grey level of the 8-bit picture; clipped at 255 it would be nearly white.
    assert np.abs(loaded[:, :, 0] - grey).max() <= 1
    assert (loaded[:, :, 0] == loaded[:, :, 2]).all()


def test_a_sixteen_bit_grey_photo_is_detected(api: httpx.Client) -> None:
    grey = np.asarray(Image.fromarray(astronaut()).convert("L")).astype(np.uint16) * 257
    task = detect(api, encode(Image.fromarray(grey)), "png")
    assert task["status"] == "complete", task
    assert len(task["faces"]) == 1
