"""Annotated previews: boxes on images, contact sheets of video faces."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
from magic_hour.cli._preview import (
    BOX_COLOURS,
    INSTALL_HINT,
    FaceBox,
    PreviewUnavailable,
    SheetTile,
    annotate_image,
    contact_sheet,
    format_frame_time,
    pillow_available,
)
from PIL import Image

from tests.server.images import heic


def _grey(path: Path, size: tuple[int, int]) -> Path:
    Image.new("RGB", size, (128, 128, 128)).save(path)
    return path


def test_boxes_are_drawn_where_the_faces_are(tmp_path: Path) -> None:
    source = _grey(tmp_path / "in.png", (400, 300))
    out = annotate_image(
        source, [FaceBox(100, 120, 80, 100, 0.91), FaceBox(250, 60, 50, 60)], tmp_path / "p.png"
    )
    pixels = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert pixels.shape == (300, 400, 3)
    grey = np.array([128, 128, 128])
    # The box's left edge is coloured, its inside and the far background untouched.
    assert (pixels[170, 100] != grey).any()
    assert (pixels[170, 140] == grey).all()
    assert (pixels[290, 10] == grey).all()
    # The second face (no score) is drawn too.
    assert (pixels[90, 250] != grey).any()


def test_large_images_are_scaled_down_with_their_boxes(tmp_path: Path) -> None:
    source = _grey(tmp_path / "big.png", (3200, 1600))
    out = annotate_image(source, [FaceBox(1600, 800, 400, 400, 0.8)], tmp_path / "p.png")
    image = Image.open(out)
    assert image.size == (1600, 800)
    pixels = np.asarray(image.convert("RGB")).astype(int)
    assert (pixels[500, 800] != 128).any()  # the left edge, at half scale


def test_a_jpeg_past_pillows_pixel_cap_is_drawn_on_reduced(tmp_path: Path) -> None:
    # 16384 x 11000 (180 MP) is past the cap Pillow opens pictures at (about 179 MP);
    # phones take 200 MP photos, which the server reads reduced.
    source = tmp_path / "huge.jpg"
    Image.new("L", (16384, 11000), 128).save(source, quality=50)
    out = annotate_image(source, [FaceBox(8000, 4000, 2000, 2000, 0.9)], tmp_path / "p.png")
    image = Image.open(out)
    assert max(image.size) <= 2048
    pixels = np.asarray(image.convert("RGB")).astype(int)
    scale = image.width / 16384
    # The box's left edge, at the preview's scale, is drawn.
    assert (pixels[round(5000 * scale), round(8000 * scale)] != 128).any()


def test_exif_orientation_is_applied_before_drawing(tmp_path: Path) -> None:
    source = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: display rotated 90 degrees clockwise
    Image.new("RGB", (300, 200), "grey").save(source, exif=exif)
    out = annotate_image(source, [FaceBox(10, 10, 50, 50, 0.5)], tmp_path / "p.png")
    assert Image.open(out).size == (200, 300)


def test_a_phone_heic_photo_is_drawn_upright(tmp_path: Path) -> None:
    source = tmp_path / "IMG_0001.HEIC"
    source.write_bytes(heic(Image.new("RGB", (300, 200), "grey"), orientation=6))
    out = annotate_image(source, [FaceBox(10, 10, 50, 50, 0.5)], tmp_path / "p.png")
    assert Image.open(out).size == (200, 300)


def test_a_sixteen_bit_grey_photo_is_drawn_in_its_greys(tmp_path: Path) -> None:
    ramp = np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (100, 1))
    source = tmp_path / "scan.png"
    Image.fromarray(ramp).save(source)
    out = annotate_image(source, [], tmp_path / "p.png")
    row = np.asarray(Image.open(out).convert("L"))[50].astype(int)
    # Dark to light across, as in the file; clipped at 255 it would be white from x = 1.
    assert row[0] <= 1 and row[-1] >= 254 and abs(row[128] - 128) <= 2


def test_unreadable_input_says_so(tmp_path: Path) -> None:
    source = tmp_path / "broken.png"
    source.write_bytes(b"not an image")
    with pytest.raises(PreviewUnavailable, match=r"cannot read broken\.png"):
        annotate_image(source, [], tmp_path / "p.png")
    assert not list(tmp_path.glob("*p.png*"))  # no half-written preview


def test_contact_sheet_lays_out_every_face(tmp_path: Path) -> None:
    tiles = []
    for n, colour in enumerate(["red", "blue", "green", "yellow", "white", "cyan", "orange"]):
        path = tmp_path / f"0-{n}.png"
        Image.new("RGB", (60, 80), colour).save(path)
        tiles.append(SheetTile(path, f"face {n}"))
    out = contact_sheet(tiles, tmp_path / "sheet.png", title="clip.mp4", cell=100)
    sheet = Image.open(out).convert("RGB")
    # Six columns, two rows.
    assert sheet.width > 6 * 100 and sheet.width < 7 * 100
    assert sheet.height > 2 * 100
    colours = {
        sheet.getpixel((x, y)) for x in range(sheet.width) for y in range(0, sheet.height, 7)
    }
    assert (255, 0, 0) in colours and (255, 165, 0) in colours


def test_empty_contact_sheet_says_no_faces(tmp_path: Path) -> None:
    out = contact_sheet([], tmp_path / "sheet.png", title="clip.mp4")
    assert Image.open(out).size[0] > 0


def test_frame_time_captions() -> None:
    assert format_frame_time(0) == "0:00.0"
    assert format_frame_time(83.25) == "1:23.2"


def test_without_pillow_previews_say_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    source = _grey(tmp_path / "in.png", (40, 40))
    monkeypatch.setitem(sys.modules, "PIL", None)  # makes `import PIL` fail
    assert not pillow_available()
    with pytest.raises(PreviewUnavailable) as raised:
        annotate_image(source, [], tmp_path / "p.png")
    assert str(raised.value) == INSTALL_HINT
    assert "magic-hour-face-detection[server]" in INSTALL_HINT
    with pytest.raises(PreviewUnavailable):
        contact_sheet([], tmp_path / "sheet.png")


def test_a_phone_size_jpeg_is_decoded_small_and_its_boxes_land_where_the_faces_are(
    tmp_path: Path,
) -> None:
    # 4000x3000 (12 MP), stored sideways as phones do: decoded at a fraction of its size
    # (JPEG draft mode), rotated, and the boxes scaled from the full image's pixels.
    source = tmp_path / "phone.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new("RGB", (4000, 3000), (128, 128, 128)).save(source, quality=90, exif=exif)
    out = annotate_image(source, [FaceBox(1000, 2000, 800, 800, 0.9)], tmp_path / "p.png")
    image = Image.open(out)
    # Upright 3000x4000, decoded at 1/4: the smallest scale that keeps 1000 px.
    assert image.size == (750, 1000)
    pixels = np.asarray(image.convert("RGB")).astype(int)
    assert (np.abs(pixels[600, 250] - 128) > 40).any()  # the box's left edge at x=1000/4
    assert (np.abs(pixels[600, 300] - 128) < 10).all()  # inside the box: untouched


def test_a_jpeg_a_little_larger_than_a_preview_is_fitted_to_the_largest_preview(
    tmp_path: Path,
) -> None:
    # 2400x1800: 1/2 would be 1200 px, but 1/4 (600) is under 1000, so 1/2 it is; a
    # 4000x3000 PNG has no cheap smaller decoding: fitted to 1600.
    jpeg, png = tmp_path / "mid.jpg", tmp_path / "big.png"
    Image.new("RGB", (2400, 1800), (128, 128, 128)).save(jpeg, quality=90)
    Image.new("RGB", (4000, 3000), (128, 128, 128)).save(png)
    assert Image.open(annotate_image(jpeg, [], tmp_path / "a.png")).size == (1200, 900)
    assert Image.open(annotate_image(png, [], tmp_path / "b.png")).size == (1600, 1200)


def test_a_truncated_phone_jpeg_is_a_clear_preview_error_through_draft_decoding(
    tmp_path: Path,
) -> None:
    source = tmp_path / "cut.jpg"
    Image.new("RGB", (4000, 3000), (10, 200, 30)).save(source, quality=90)
    source.write_bytes(source.read_bytes()[:5000])
    with pytest.raises(PreviewUnavailable, match=r"cannot read cut\.jpg"):
        annotate_image(source, [FaceBox(10, 10, 50, 50, 0.5)], tmp_path / "p.png")
    assert not (tmp_path / "p.png").exists()


def test_a_jpeg_whose_header_claims_a_huge_size_is_a_clear_preview_error(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (100, 100, 100)).save(buffer, format="JPEG")
    data = bytearray(buffer.getvalue())
    start = data.find(b"\xff\xc0")  # the frame header: height and width follow its length
    data[start + 5 : start + 9] = struct.pack(">HH", 30000, 40000)
    source = tmp_path / "liar.jpg"
    source.write_bytes(bytes(data))
    with pytest.raises(PreviewUnavailable, match=r"cannot read liar\.jpg"):
        annotate_image(source, [FaceBox(1, 1, 10, 10, 0.5)], tmp_path / "p.png")
    assert not (tmp_path / "p.png").exists()


def _tag_pixels(pixels: np.ndarray, region: tuple[int, int, int, int], colour: str) -> int:
    """How many pixels of `region` (left, top, right, bottom) are exactly `colour`."""
    rgb = np.array(Image.new("RGB", (1, 1), colour).getpixel((0, 0)))
    left, top, right, bottom = region
    return int((pixels[top:bottom, left:right] == rgb).all(axis=-1).sum())


def test_in_a_crowd_no_label_covers_a_face(tmp_path: Path) -> None:
    # 20 x 12 small faces, 24 x 28 px, 16 px apart: too close for every tag to fit.
    source = _grey(tmp_path / "crowd.png", (1000, 560))
    faces = [
        FaceBox(10 + 40 * column, 10 + 44 * row, 24, 28, 0.7)
        for row in range(12)
        for column in range(24)
    ]
    out = annotate_image(source, faces, tmp_path / "p.png")
    pixels = np.asarray(Image.open(out).convert("RGB")).astype(int)
    for face in faces:
        inside = pixels[face.y + 3 : face.y + face.height - 2, face.x + 3 : face.x + face.width - 2]
        assert (inside == 128).all(), f"a tag covers the face at {face.x}, {face.y}"
    # Some faces are still labelled: tags were fitted where they could be.
    tags = sum(
        _tag_pixels(pixels, (f.x, f.y - 14, f.x + 24, f.y), colour)
        for f, colour in zip(faces, [*BOX_COLOURS] * 100, strict=False)
    )
    assert tags > 0


def test_a_face_with_another_just_above_it_is_labelled_below(tmp_path: Path) -> None:
    source = _grey(tmp_path / "in.png", (600, 600))
    near_top = FaceBox(200, 100, 60, 70, 0.8)
    big = FaceBox(180, 175, 160, 200, 0.9)
    out = annotate_image(source, [near_top, big], tmp_path / "p.png")
    pixels = np.asarray(Image.open(out).convert("RGB")).astype(int)
    # The face above keeps its picture; the big face's tag sits under its box.
    inside = pixels[103:167, 203:257]
    assert (inside == 128).all()
    assert _tag_pixels(pixels, (180, 376, 340, 420), BOX_COLOURS[1]) > 200
    # And the face above is labelled above itself.
    assert _tag_pixels(pixels, (200, 60, 330, 100), BOX_COLOURS[0]) > 200
