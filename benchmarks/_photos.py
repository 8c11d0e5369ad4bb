"""Phone-size photos: one 12 MP photo's server task (decode, detect, crop, write) with the
crops' PNG level now (1) beside Pillow's default (6), the same photo as HEIC (what
iPhones take) beside it, and the command line's preview of it now (JPEG draft decoding,
fast PNG) beside the way it was drawn before (full decode, `optimize=True`). Side by side,
alternating, in one run. Also the tasks of 50 and 200 MP photos, past the server's pixel
limit, which it reads at half size."""

from __future__ import annotations

import io
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from ._common import Figure, Settings, Target

SECTION = "12 MP photos"
TASK_TARGET = Target("<=", 0.5)
SIZE = (4000, 3000)
LARGE_PHOTOS = [("50 MP", (8160, 6144)), ("200 MP", (16320, 12240))]
"""What phones take past 12 MP: a Pixel's 50 MP mode and a Galaxy's 200 MP mode."""


def phone_photo(path: Path, size: tuple[int, int] = SIZE) -> Path:
    """A JPEG of a real face (scikit-image's astronaut, enlarged to the photo's height, with
    sensor-like noise so that it compresses like a photo); 4000x3000 unless `size`."""
    from PIL import Image
    from skimage import data

    width, height = size
    astronaut = data.astronaut()  # type: ignore[no-untyped-call]
    portrait = Image.fromarray(astronaut).resize((height, height), Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", size, (90, 110, 130))
    canvas.paste(portrait, ((width - height) // 2, 0))
    pixels = np.array(canvas)
    del canvas, portrait
    rng = np.random.default_rng(0)
    for top in range(0, height, 1000):  # in strips: a 200 MP photo's float noise is 4.8 GB
        strip = pixels[top : top + 1000]
        noisy = strip.astype(np.int16) + rng.normal(0, 3, strip.shape)
        pixels[top : top + 1000] = np.clip(noisy, 0, 255).astype(np.uint8)
    Image.fromarray(pixels).save(path, quality=90)
    return path


_WRITE_HEIC = """
import io, sys
import pillow_heif
from PIL import Image
image = Image.open(io.BytesIO(sys.stdin.buffer.read()))
exif = Image.Exif()
if int(sys.argv[1]):
    exif[0x0112] = int(sys.argv[1])
pillow_heif.from_pillow(image).save(sys.stdout.buffer, quality=85, exif=exif.tobytes())
"""


def keep_pillow_heif_out() -> None:
    """Make pillow-heif unimportable in this process (call it before anything reads images).

    It is a dev tool here: `heic` runs it in a process of its own. In this one imageio, which
    scikit-image reads its photos with, would teach Pillow HEIC through it whenever it can
    import it, in place of the server's own pi-heif: a test of the server reading HEIC
    would pass without pi-heif, and a benchmark would time the wrong decoder's wrapper.
    """
    sys.modules.setdefault("pillow_heif", None)  # type: ignore[arg-type]


def heic(image: Any, orientation: int = 0) -> bytes:
    """The PIL `image` as a HEIC file, as phones write them (libheif and x265, by pillow-heif).

    An EXIF `orientation` is stored as phones store it: as the file's own transform, which
    the decoder applies.
    """
    png = io.BytesIO()
    image.save(png, format="PNG")
    written = subprocess.run(
        [sys.executable, "-c", _WRITE_HEIC, str(orientation)],
        input=png.getvalue(),
        capture_output=True,
        check=True,
    )
    return written.stdout


def _task_seconds(photo: Path, level: int, detector: Any) -> tuple[float, int]:
    from magic_hour_server.detection._processing import process_image

    class Sink:
        written = 0

        def add_face(self, *, crop: Any, **_: Any) -> None:
            buffer = io.BytesIO()
            crop.save(buffer, format="PNG", compress_level=level)
            Sink.written += len(buffer.getvalue())

        def set_progress(self, fraction: float) -> None:
            pass

    started = time.perf_counter()
    process_image(photo, detector, 0.5, Sink())
    return time.perf_counter() - started, Sink.written


def _old_preview(source: Path, faces: list[Any], destination: Path) -> None:
    """The preview as it was drawn before: full decode, LANCZOS, `optimize=True`."""
    from PIL import Image, ImageDraw, ImageOps

    with Image.open(source) as opened:
        image = ImageOps.exif_transpose(opened).convert("RGB")
    scale = min(1.0, 1600 / max(image.size))
    size = (round(image.width * scale), round(image.height * scale))
    image = image.resize(size, Image.Resampling.LANCZOS)
    draw = ImageDraw.Draw(image)
    for face in faces:
        draw.rectangle((face.x * scale, face.y * scale, (face.x + face.width) * scale,
                        (face.y + face.height) * scale), outline="red", width=5)  # fmt: skip
    image.save(destination, format="PNG", optimize=True)


SDK_SCRIPT = """
import asyncio, os, sys
from magic_hour import AsyncClient

async def main(paths, out, concurrency):
    limit = asyncio.Semaphore(concurrency)
    async with AsyncClient() as client:
        async def one(number, path):
            async with limit:
                await client.v1.face_detection.generate(
                    assets={"target_file_path": path}, download_directory=f"{out}/{number}")
        await asyncio.gather(*(one(n, p) for n, p in enumerate(paths)))

asyncio.run(main(sys.argv[3:], sys.argv[1], int(sys.argv[2])))
"""


def _command_line_against_the_sdk(photos: list[Path], workdir: Path) -> tuple[float, float]:
    """Seconds for `magic-hour detect` on `photos` against a running server, and for a
    plain AsyncClient script doing the same uploads, detections and downloads at the same
    concurrency (4), alternating."""
    import os
    import subprocess
    import sys

    from magic_hour_server import LocalServer

    with LocalServer() as server:
        env = {**os.environ, "MAGIC_HOUR_API_TOKEN": server.token,
               "MAGIC_HOUR_BASE_URL": server.url}  # fmt: skip
        command = Path(sys.executable).with_name("magic-hour")
        cli, sdk = [], []
        for number in range(2):
            started = time.perf_counter()
            subprocess.run(
                [str(command), "detect", "--concurrency", "4", "--out",
                 str(workdir / f"cli-{number}"), *map(str, photos)],
                env=env, check=True, capture_output=True,
            )  # fmt: skip
            cli.append(time.perf_counter() - started)
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-c", SDK_SCRIPT, str(workdir / f"sdk-{number}"), "4",
                 *map(str, photos)],
                env=env, check=True, capture_output=True,
            )  # fmt: skip
            sdk.append(time.perf_counter() - started)
    return min(cli), min(sdk)


def run(settings: Settings, workdir: Path) -> list[Figure]:
    from magic_hour.cli._preview import FaceBox, annotate_image
    from magic_hour_server.detection._detector import default_detector
    from magic_hour_server.storage._storage import PNG_LEVEL
    from PIL import Image

    photo = phone_photo(workdir / "phone.jpg")
    with Image.open(photo) as opened:
        as_heic = workdir / "phone.heic"
        as_heic.write_bytes(heic(opened))
    detector = default_detector()
    _task_seconds(photo, PNG_LEVEL, detector)  # warm up the model
    rounds = 3 if settings.quick else 7
    now, before, heic_task, sizes = [], [], [], {}
    for _ in range(rounds):
        seconds, sizes["now"] = _task_seconds(photo, PNG_LEVEL, detector)
        now.append(seconds)
        seconds, sizes["before"] = _task_seconds(photo, 6, detector)
        before.append(seconds)
        heic_task.append(_task_seconds(as_heic, PNG_LEVEL, detector)[0])
    faces = [FaceBox(1400, 500, 900, 1100, 0.9)]
    new_preview, old_preview = [], []
    for number in range(rounds):
        started = time.perf_counter()
        annotate_image(photo, faces, workdir / f"new-{number}.png")
        new_preview.append(time.perf_counter() - started)
        started = time.perf_counter()
        _old_preview(photo, faces, workdir / f"old-{number}.png")
        old_preview.append(time.perf_counter() - started)
    large: list[tuple[str, tuple[int, int], int, float]] = []
    for name, size in LARGE_PHOTOS:
        big = phone_photo(workdir / f"{name}.jpg", size)
        runs = [_task_seconds(big, PNG_LEVEL, detector)[0] for _ in range(3)]
        large.append((name, size, big.stat().st_size, statistics.median(runs)))
        big.unlink()
    photos = [photo] * (4 if settings.quick else 8)
    cli_seconds, sdk_seconds = _command_line_against_the_sdk(photos, workdir)
    task, task_before = statistics.median(now), statistics.median(before)
    preview, preview_before = statistics.median(new_preview), statistics.median(old_preview)
    large_figures = [
        Figure(
            SECTION,
            f"one {name} photo's server task",
            seconds,
            " s",
            None,
            f"{size[0]} x {size[1]} JPEG ({file_size / 1e6:.0f} MB), past the 50 MP limit:"
            f" decoded at 1/2 of its size (median of 3)",
        )
        for name, size, file_size, seconds in large
    ]
    return [
        *large_figures,
        Figure(
            SECTION,
            f"magic-hour detect / an AsyncClient script, {len(photos)} photos",
            cli_seconds / sdk_seconds,
            "x",
            Target("<=", 1.5),
            f"{cli_seconds:.1f} vs {sdk_seconds:.1f} s, concurrency 4, against one local server "
            "(best of 2 each, alternating)",
        ),
        Figure(
            SECTION,
            "one 12 MP photo's server task (decode, detect, crops)",
            task,
            " s",
            TASK_TARGET,
            f"crops at PNG level {PNG_LEVEL}: {task:.2f} s, {sizes['now'] / 1e6:.1f} MB; at "
            f"Pillow's default level 6: {task_before:.2f} s, {sizes['before'] / 1e6:.1f} MB "
            f"(median of {rounds}, alternating)",
        ),
        Figure(
            SECTION,
            "one 12 MP HEIC photo's server task",
            statistics.median(heic_task),
            " s",
            None,
            f"the same photo as HEIC ({as_heic.stat().st_size / 1e6:.1f} MB, one tile) against "
            f"{task:.2f} s as JPEG: libheif's HEVC decoding costs several times libjpeg's"
            f" (median of {rounds}, alternating)",
        ),
        Figure(
            SECTION,
            "command-line preview of a 12 MP JPEG: now / before",
            preview / preview_before,
            "x",
            Target("<=", 0.5),
            f"{preview * 1000:.0f} ms (draft decoding, fast PNG) vs {preview_before * 1000:.0f} ms "
            f"(full decode, optimize=True), median of {rounds}",
        ),
    ]
