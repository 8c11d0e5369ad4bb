"""Detection through the running server: uploads, tasks, faces and their crops."""

from __future__ import annotations

import io

import httpx
import pytest
from magic_hour_client import AuthenticatedClient
from magic_hour_client.api.face_detection import create, get
from magic_hour_client.api.files import create_upload_urls
from magic_hour_client.models import (
    BoundingBox,
    FaceDetectionAssets,
    FaceDetectionRequest,
    FaceDetectionStatus,
    UploadUrlsRequest,
    UploadUrlsRequestItem,
)
from magic_hour_client.models.asset_type import AssetType
from magic_hour_server import LocalServer
from PIL import Image

from tests.server.conftest import detect, start, upload, wait
from tests.server.images import (
    ASTRONAUT_FACE,
    astronaut,
    encode,
    heic,
    iou,
    looks_like_face_crop,
    three_faces,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def _box(face: dict[str, object]) -> tuple[float, float, float, float]:
    box = face["box"]
    assert isinstance(box, dict)
    return (box["x"], box["y"], box["x"] + box["width"], box["y"] + box["height"])


def test_three_faces_come_back_left_to_right_with_crops(api: httpx.Client) -> None:
    scene = three_faces()
    task = detect(api, encode(scene.pixels))
    assert task["status"] == "complete", task
    assert task["progress"] == 1
    faces = task["faces"]
    assert len(faces) == 3
    for index, (face, expected) in enumerate(zip(faces, scene.faces, strict=True)):
        assert face["path"] == f"api-assets/{task['id']}/0-{index}.png"
        assert face["frame"] == 0
        assert 0.5 <= face["score"] <= 1
        assert iou(_box(face), expected) > 0.6, (face, expected)
        png = httpx.get(face["url"], timeout=30)  # no API key: the URL is signed
        assert png.status_code == 200
        assert png.headers["content-type"] == "image/png"
        size = (expected[2] - expected[0], expected[3] - expected[1])
        assert looks_like_face_crop(png.content, size)


def test_generated_client_runs_a_detection(server: LocalServer) -> None:
    client = AuthenticatedClient(base_url=server.url, token=server.token)
    urls = create_upload_urls.sync(
        client=client,
        body=UploadUrlsRequest(
            items=[UploadUrlsRequestItem(type_=AssetType.IMAGE, extension="jpg")]
        ),
    )
    assert urls is not None and not isinstance(urls, type(None))
    item = urls.items[0]  # type: ignore[union-attr]
    assert httpx.put(item.upload_url, content=encode(astronaut(), "JPEG")).status_code == 200
    created = create.sync(
        client=client,
        body=FaceDetectionRequest(assets=FaceDetectionAssets(target_file_path=item.file_path)),
    )
    task_id = created.id  # type: ignore[union-attr]
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}
    ) as raw:
        wait(raw, task_id)
    task = get.sync(id=task_id, client=client)
    assert task is not None and task.status == FaceDetectionStatus.COMPLETE  # type: ignore[union-attr]
    assert len(task.faces) == 1  # type: ignore[union-attr]
    face = task.faces[0]  # type: ignore[union-attr]
    box = face.box
    assert isinstance(box, BoundingBox)
    assert iou((box.x, box.y, box.x + box.width, box.y + box.height), ASTRONAUT_FACE) > 0.6


def test_confidence_score_filters_faces(api: httpx.Client) -> None:
    # Scores on these faces sit near 0.9: 0.95 keeps none of them.
    strict = detect(api, encode(three_faces().pixels), confidence=0.95)
    assert strict["status"] == "complete"
    assert strict["faces"] == []


@pytest.mark.parametrize(
    ("fmt", "extension"),
    [
        ("JPEG", "jpg"),
        ("JPEG", "jpeg"),
        ("JPEG", "jfif"),
        ("WEBP", "webp"),
        ("BMP", "bmp"),
        ("TIFF", "tiff"),
        ("TIFF", "tif"),
        ("AVIF", "avif"),
    ],
)
def test_image_formats(api: httpx.Client, fmt: str, extension: str) -> None:
    task = detect(api, encode(astronaut(), fmt), extension)
    assert task["status"] == "complete", task
    assert len(task["faces"]) == 1


def test_exif_orientation_is_honoured(api: httpx.Client) -> None:
    # Stored turned a quarter, with the EXIF tag that says how to turn it back.
    turned = Image.fromarray(astronaut()).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # "turn 90 degrees clockwise to view": undoes ROTATE_90 (anticlockwise)
    data = encode(turned, "JPEG", exif=exif)
    task = detect(api, data, "jpg")
    assert task["status"] == "complete"
    assert len(task["faces"]) == 1
    assert iou(_box(task["faces"][0]), ASTRONAUT_FACE) > 0.6


@pytest.mark.parametrize("extension", ["heic", "heif"])
def test_a_phone_heic_photo_is_read_upright(api: httpx.Client, extension: str) -> None:
    # Stored sideways with an orientation, as a phone held upright stores its photos.
    turned = Image.fromarray(astronaut()).transpose(Image.Transpose.ROTATE_90)
    task = detect(api, heic(turned, orientation=6), extension)
    assert task["status"] == "complete", task
    assert len(task["faces"]) == 1
    assert iou(_box(task["faces"][0]), ASTRONAUT_FACE) > 0.6
    crop = Image.open(io.BytesIO(httpx.get(task["faces"][0]["url"], timeout=30).content))
    assert crop.height > crop.width  # upright: a face is taller than wide


def test_a_face_crop_can_be_detected_again(api: httpx.Client) -> None:
    first = detect(api, encode(astronaut()))
    again = wait(api, start(api, first["faces"][0]["path"]))
    assert again["status"] == "complete"
    assert len(again["faces"]) == 1


def test_faces_are_png_files_with_the_box_plus_margin(api: httpx.Client) -> None:
    task = detect(api, encode(astronaut()))
    face = task["faces"][0]
    crop = Image.open(io.BytesIO(httpx.get(face["url"]).content))
    box = face["box"]
    assert box["width"] < crop.width <= 512 and box["height"] < crop.height <= 512


def test_uploaded_file_path_has_the_hosted_shape(api: httpx.Client) -> None:
    path = upload(api, encode(astronaut()))
    prefix, item_id, name = path.split("/")
    assert prefix == "api-assets" and item_id.isalnum() and name.endswith(".png")


def test_a_face_url_answers_get_and_head_with_the_files_headers(api: httpx.Client) -> None:
    task = detect(api, encode(astronaut()))
    url = task["faces"][0]["url"]
    got, head = httpx.get(url), httpx.head(url)
    assert got.status_code == head.status_code == 200
    assert Image.open(io.BytesIO(got.content)).format == "PNG" and head.content == b""
    for name in ("content-type", "content-length", "etag", "last-modified"):
        assert got.headers[name] == head.headers[name], name
    assert got.headers["content-type"] == "image/png"
    assert int(got.headers["content-length"]) == len(got.content)
